# tandem's image: Node 24 on distroless Debian 13 (no shell, no package manager at run
# time), the bundled build only, a numeric non-root user. Multi-arch:
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     -t ghcr.io/tandem-dev/tandem:0.1.0 --push .
#
# distroless dropped its nodejs*-debian12 images on 2026-02-27 (those tags get no more
# updates); nodejs24-debian13 is the maintained one, rebuilt as Debian and Node release
# fixes. The image runs the build (dist/, `npm run build`): JavaScript with every
# dependency bundled in, the same files `npm install` of the package gets.

# The build stage runs on the builder's own architecture ($BUILDPLATFORM): its output is
# plain JavaScript, so one build serves every target and no stage runs under emulation.
# Debian 13 like the runtime.
FROM --platform=$BUILDPLATFORM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no install script runs. esbuild finds its binary in its platform
# package without one; the `node` devDependency (Node 24 for hosts with an older Node) is
# not needed here, where Node 24 is the image's own.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY bin/ bin/
COPY src/ src/
COPY scripts/build.ts scripts/
RUN node scripts/build.ts

FROM gcr.io/distroless/nodejs24-debian13:nonroot
WORKDIR /app
# Owned by root and not writable by the user that runs: with the pod's read-only root
# filesystem, nothing under /app can change at run time either way. No node_modules: the
# build bundles them.
COPY package.json ./
COPY policies/ policies/
COPY --from=build /app/dist/ dist/
# 65532 is distroless's `nonroot`; numeric so that the kubelet can enforce runAsNonRoot.
USER 65532
EXPOSE 8443
# The entrypoint names the script, so a pod's `args` (serve --port=...) replace only the
# verb and flags, as they would for any CLI image. distroless keeps node at
# /nodejs/bin/node (its nodejs image's own entrypoint and structure test use that path).
# --max-semi-space-size=8 caps V8's young generation at 2 x 8 MiB: left to itself it grows
# to 2 x 64 MiB under load on a large host (RSS +90 MiB after 100,000 reviews), or sizes
# itself from the container's memory limit. Measured: RSS flat at about 140 MiB in
# cluster mode, for 1-7 µs more garbage collection per review (README "Speed").
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "dist/tandem.js"]
CMD ["serve"]

# tandem's image: Node 24 on distroless (no shell, no package manager at run time),
# production dependencies only, a numeric non-root user.
#
# The build stage installs with `npm ci --omit=dev`: the `node` devDependency (Node 24
# for hosts with an older system Node) is left out, since the base image is Node 24.
# tandem runs its TypeScript directly (Node's type stripping), so there is no compile.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no install script runs; none of the production dependencies needs one.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin/ bin/
COPY src/ src/
COPY policies/ policies/

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=build /app /app
# 65532 is distroless's `nonroot`; numeric so that the kubelet can enforce runAsNonRoot.
USER 65532
EXPOSE 8443
# The entrypoint names the script, so a pod's `args` (serve --port=...) replace only
# the verb and flags, as they would for any CLI image. distroless keeps node here.
ENTRYPOINT ["/nodejs/bin/node", "bin/tandem.js"]
CMD ["serve"]

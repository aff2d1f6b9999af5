/**
 * `npm run build`: the publishable JavaScript in dist/. Node refuses to strip types under
 * node_modules (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING), so an installed tandem needs
 * JavaScript; esbuild bundles tandem and its dependencies into a few ES modules:
 *
 * - dist/tandem.js is the `tandem` command, dist/cli.js exports `main`;
 * - each verb, and the cluster client, stays behind its dynamic import as its own chunk,
 *   so `tandem inject` reads about 1 MB of JavaScript and never the server's 2 MB or the
 *   cluster client's 0.5 MB;
 * - of @kubernetes/client-node only KubeConfig and what it needs is bundled (below);
 * - the SidecarPolicy validator is ajv's standalone code, generated here from the same
 *   schema, so a start-up does not compile the schema (a third of `tandem inject`'s time).
 *
 * The package then has no runtime dependencies: `npm install` of its tarball needs no
 * registry, and a start-up resolves a handful of files rather than hundreds.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { build, type Plugin } from 'esbuild';
import { SidecarPolicySchema } from '../src/policy/schema.ts';
import { AJV_OPTIONS } from '../src/policy/schema-validator.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const OUT = `${ROOT}dist`;

/** validatorSource is ajv's standalone module for the schema, exporting `validateSchema`. */
function validatorSource(): string {
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true } });
  // A CommonJS module: its default export sits on `default` of what Node imports.
  const code = standalone.default(ajv, ajv.compile(SidecarPolicySchema));
  return `${code}\nexport { validate as validateSchema };\n`;
}

/** precompiledValidator swaps the runtime compile for ajv's standalone code. */
const precompiledValidator: Plugin = {
  name: 'precompiled-validator',
  setup(builder) {
    builder.onLoad({ filter: /src\/policy\/schema-validator\.ts$/ }, () => ({
      contents: validatorSource(),
      loader: 'js',
      resolveDir: ROOT,
    }));
  },
};

const CLIENT_NODE = '/node_modules/@kubernetes/client-node/';

/**
 * UNDICI_LEFT_OUT stands in for undici inside the build. client-node's KubeConfig imports
 * it for the fetch dispatchers of `makeApiClient` and `Watch`, which tandem never calls:
 * its requests go through node:https with `applyToHTTPSOptions` (src/kube/api-request.ts).
 * undici is CommonJS, so esbuild cannot drop what goes unused, and it would cost about
 * 5 MiB of RSS in cluster mode. Should a path tandem takes ever reach it, it throws
 * (the cluster tests run the build).
 */
const UNDICI_LEFT_OUT = `
const leftOut = () => { throw new Error("undici is left out of tandem's build (scripts/build.ts)"); };
export class Agent { constructor() { leftOut(); } }
export class ProxyAgent { constructor() { leftOut(); } }
export const fetch = leftOut;
`;

/**
 * clientNodeWithoutSideEffects tells esbuild that @kubernetes/client-node's modules have no
 * side effects (what `"sideEffects": false` in its package.json would say), so that only
 * what tandem imports is bundled: KubeConfig and the authenticators it constructs. Without
 * it, `config.js`'s import of `gen/index.js` keeps the generated API and every model, about
 * 80 MiB of RSS in cluster mode. Its one module with an effect, `polyfill.js`, sets a
 * `File` global for Node 18, which Node 24 has. undici, imported from client-node, is
 * UNDICI_LEFT_OUT.
 */
const clientNodeWithoutSideEffects: Plugin = {
  name: 'client-node-without-side-effects',
  setup(builder) {
    builder.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === CLIENT_NODE) return undefined;
      const fromClientNode = args.importer.includes(CLIENT_NODE);
      if (fromClientNode && args.path === 'undici')
        return { path: 'undici', namespace: 'left-out' };
      if (!fromClientNode && !args.path.startsWith('@kubernetes/client-node')) return undefined;
      const resolved = await builder.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: CLIENT_NODE,
      });
      if (resolved.errors.length > 0 || !resolved.path.includes(CLIENT_NODE)) return resolved;
      return { ...resolved, sideEffects: false };
    });
    builder.onLoad({ filter: /.*/, namespace: 'left-out' }, () => ({
      contents: UNDICI_LEFT_OUT,
      loader: 'js',
    }));
  },
};

await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { tandem: 'bin/tandem.js', cli: 'src/cli.ts' },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // All chunks beside the entry points: `new URL('../package.json', import.meta.url)` then
  // means the package's root from any of them, as it does from src/ in a checkout.
  chunkNames: '[name]-[hash]',
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  plugins: [precompiledValidator, clientNodeWithoutSideEffects],
  // Bundled CommonJS dependencies call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as tandemCreateRequire } from 'node:module'; const require = tandemCreateRequire(import.meta.url);",
  },
});
if (result.errors.length > 0) process.exitCode = 1;
// Under node_modules the package's own package.json says "type": "module" already; this
// one lets dist/ be copied on its own (the image) without Node guessing the format.
await writeFile(`${OUT}/package.json`, '{ "type": "module" }\n');

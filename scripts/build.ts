/**
 * `npm run build`: the publishable JavaScript in dist/. Node refuses to strip types under
 * node_modules (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING), so an installed tandem needs
 * JavaScript; esbuild bundles tandem and its dependencies into a few ES modules:
 *
 * - dist/tandem.js is the `tandem` command, dist/cli.js exports `main`;
 * - each verb, and @kubernetes/client-node, stays behind its dynamic import as its own
 *   chunk, so `tandem inject` reads about 1 MB of JavaScript and never the server's
 *   3 MB or the cluster client's 6 MB;
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
  plugins: [precompiledValidator],
  // Bundled CommonJS dependencies call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as tandemCreateRequire } from 'node:module'; const require = tandemCreateRequire(import.meta.url);",
  },
});
if (result.errors.length > 0) process.exitCode = 1;
// Under node_modules the package's own package.json says "type": "module" already; this
// one lets dist/ be copied on its own (the image) without Node guessing the format.
await writeFile(`${OUT}/package.json`, '{ "type": "module" }\n');

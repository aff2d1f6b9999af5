import { readdir, readFile } from 'node:fs/promises';
import t from 'tap';

// What `tandem serve` loads for cluster mode is the build's cluster chunk and the chunks it
// imports (tap builds dist/ before any test file). Of @kubernetes/client-node it needs
// KubeConfig alone: the generated API and models cost about 80 MiB of RSS, undici 5.
const DIST = new URL('../../dist/', import.meta.url);

/** loadedWith reads `file` and, recursively, every chunk it imports statically. */
async function loadedWith(file: string, seen = new Set<string>()): Promise<string[]> {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = await readFile(new URL(file, DIST), 'utf8');
  const imported = [...text.matchAll(/^import .* from "\.\/([\w-]+\.js)";$/gm)].map((m) => m[1]);
  const more = await Promise.all(
    imported.filter((name) => name !== undefined).map((name) => loadedWith(name, seen)),
  );
  return [text, ...more.flat()];
}

t.test(
  "the build's cluster client bundles client-node's KubeConfig, not its generated API, models or undici",
  async (t) => {
    const connect = (await readdir(DIST)).filter((name) => /^connect-\w+\.js$/.test(name));
    t.equal(connect.length, 1, 'one cluster chunk');
    const code = (await loadedWith(connect[0] ?? '')).join('\n');
    t.match(code, '// node_modules/@kubernetes/client-node/dist/config.js', 'KubeConfig is in');
    for (const leftOut of [
      'node_modules/@kubernetes/client-node/dist/gen/apis/',
      'node_modules/@kubernetes/client-node/dist/gen/models/',
      'node_modules/@kubernetes/client-node/dist/informer.js',
      'node_modules/undici/',
    ]) {
      t.notOk(code.includes(`// ${leftOut}`), `${leftOut} is left out`);
    }
  },
);

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

// The README's mesh-style tour shows what `tandem explain` prints for examples/mesh/:
// the block after its marker must be exactly what the command prints today.

const MARKER = '<!-- mesh-tour: the output below is checked by test/cli/mesh-tour.test.ts -->';

t.test("the README's mesh-style tour prints what the README shows", async (t) => {
  const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const after = readme.slice(readme.indexOf(MARKER) + MARKER.length);
  const shown = /^\n```\n([\s\S]*?)```\n/.exec(after)?.[1];
  const run = runTandem([
    'explain',
    '-f',
    'examples/mesh/deployments.yaml',
    '--policies',
    'examples/mesh/policies',
    '--namespace-labels',
    'examples/mesh/namespaces.yaml',
  ]);
  t.equal(run.stderr, '');
  t.strictSame(run.stdout, shown);
  t.equal(run.code, 0);
});

t.test('the tour policy passes lint', (t) => {
  const run = runTandem(['lint', 'examples/mesh/policies']);
  t.strictSame([run.code, run.stdout], [0, '1 policy OK\n']);
  t.end();
});

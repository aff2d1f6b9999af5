import t from 'tap';
import { parseDocument } from 'yaml';
import { aliasProblem, expandedNodeCount } from '../src/yaml-aliases.ts';

t.test('expansion is counted once per anchor, so a bomb is measured without expanding it', (t) => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 20; i++) {
    const name = `l${i}`;
    const prev = i === 0 ? '*a' : `*l${i - 1}`;
    lines.push(
      `${name}: &${name} [${prev}, ${prev}, ${prev}, ${prev}, ${prev}, ${prev}, ${prev}, ${prev}, ${prev}, ${prev}]`,
    );
  }
  const started = Date.now();
  t.ok(expandedNodeCount(parseDocument(lines.join('\n'))) > 1_000_000);
  t.ok(Date.now() - started < 1_000, 'counted at once');
  t.equal(expandedNodeCount(parseDocument('a: &a [1, 2]\nb: *a\nc: *a\n')), 13);
  t.end();
});

t.test('an alias inside its own anchor is refused, not followed forever', (t) => {
  const document = parseDocument('a: &a [1, *a]\n');
  t.equal(expandedNodeCount(document), Infinity);
  t.equal(
    aliasProblem(document),
    'an alias refers to a node that contains it, so the document never ends',
  );
  t.end();
});

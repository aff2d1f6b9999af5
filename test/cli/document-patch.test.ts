import t from 'tap';
import { parseManifests } from '../../src/cli/documents.ts';
import { patchDocument } from '../../src/cli/document-patch.ts';

function documentOf(text: string) {
  const [manifest] = parseManifests(text, 'test.yaml');
  if (manifest === undefined) throw new Error('no document');
  return manifest.document;
}

t.test('a patch changes only what it names, in place, with pointers unescaped', (t) => {
  const document = documentOf(
    'metadata:\n  annotations:\n    a/b: old # kept comment\n    c~d: x\nspec:\n  containers: [{name: a}, {name: c}]\n',
  );
  patchDocument(
    document,
    [],
    [
      { op: 'replace', path: '/metadata/annotations/a~1b', value: 'new' },
      { op: 'add', path: '/metadata/annotations/c~0d', value: 'y' },
      { op: 'add', path: '/spec/containers/1', value: { name: 'b' } },
      { op: 'replace', path: '/spec/containers/0', value: { name: 'z' } },
    ],
  );
  t.equal(
    document.toString(),
    'metadata:\n  annotations:\n    a/b: new # kept comment\n    c~d: "y"\nspec:\n  containers: [ { name: z }, { name: b }, { name: c } ]\n',
  );
  t.end();
});

t.test("uninject's removes take out a key or an item, and the comments of the rest stay", (t) => {
  const document = documentOf(
    '# head\nmetadata:\n  annotations:\n    a/b: x # kept\n    t: y\nspec:\n  containers: [{name: a}, {name: c}] # list\n',
  );
  patchDocument(
    document,
    [],
    [
      { op: 'remove', path: '/metadata/annotations/t' },
      { op: 'remove', path: '/spec/containers/1' },
    ],
  );
  t.equal(
    document.toString(),
    '# head\nmetadata:\n  annotations:\n    a/b: x # kept\nspec:\n  containers: [ { name: a } ] # list\n',
  );
  t.end();
});

t.test('an operation the engine never writes, or a path that is not there, throws', (t) => {
  const document = documentOf('spec: {containers: [{name: a}], name: x}\n');
  const bad = [
    { op: 'copy', from: '/spec/name', path: '/spec/other' },
    { op: 'remove', path: '/spec/containers/1' },
    { op: 'remove', path: '/spec/nothing' },
    { op: 'add', path: '', value: {} },
    { op: 'add', path: '/spec/nothing/0', value: 1 },
    { op: 'add', path: '/spec/containers/7/env', value: [] },
    { op: 'add', path: '/spec/containers/x', value: {} },
    { op: 'add', path: '/spec/name/0', value: 1 },
    { op: 'add', path: '/spec/name/inner/0', value: 1 },
  ] as const;
  for (const op of bad) t.throws(() => patchDocument(document, [], [op]), op.path);
  t.end();
});

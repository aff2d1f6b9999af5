import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { PolicyInvalidError, TandemError } from '../../src/errors.ts';
import {
  buildPolicyDirectory,
  loadPolicies,
  parsePolicyText,
  readPolicyDirectory,
} from '../../src/policy/load.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'policies');

async function fixture(dir: string, name: string): Promise<{ file: string; text: string }> {
  const file = join(FIXTURES, dir, name);
  return { file, text: await readFile(file, 'utf8') };
}

t.test('loads every policy of a multi-document directory, skipping empty documents', async (t) => {
  const result = await readPolicyDirectory(join(FIXTURES, 'valid'));
  t.strictSame(result.issues, []);
  t.strictSame([...result.set.byName.keys()], ['metrics', 'log-shipper', 'redis-proxy']);
  t.strictSame(
    result.set.automatic.map((p) => p.name),
    ['metrics'],
  );
  const proxy = result.set.byName.get('redis-proxy');
  t.strictSame(proxy?.source, { file: join(FIXTURES, 'valid', 'sidecars.yaml'), line: 22 });
  t.strictSame(result.set.byName.get('log-shipper')?.source.line, 2, 'the line after the comment');
});

t.test('reads only *.yaml and *.yml files, in name order', async (t) => {
  const result = await readPolicyDirectory(join(FIXTURES, 'valid'));
  const files = [...result.set.byName.values()].map((p) => p.source.file);
  t.strictSame(files, [
    join(FIXTURES, 'valid', 'metrics.yml'),
    join(FIXTURES, 'valid', 'sidecars.yaml'),
    join(FIXTURES, 'valid', 'sidecars.yaml'),
  ]);
});

// Each broken fixture holds one fault; the table says where it is and what it is called.
const BROKEN = [
  {
    name: 'unknown-field.yaml',
    at: [10, 3],
    fieldPath: 'spec.volumez',
    message: /unknown field "volumez" \(did you mean "volumes"\?\)/,
  },
  {
    name: 'wrong-type.yaml',
    at: [9, 14],
    fieldPath: 'spec.containers[0].image',
    message: /expected string, got number 42/,
  },
  {
    // A missing field has no line of its own: the issue points at the map that lacks it.
    name: 'missing-image.yaml',
    at: [10, 7],
    fieldPath: 'spec.containers[1].image',
    message: /required field is missing/,
  },
  {
    name: 'bad-name.yaml',
    at: [4, 9],
    fieldPath: 'metadata.name',
    message: /"Log_Shipper" is not a valid name.*DNS-1123/,
  },
  {
    name: 'bad-operator.yaml',
    at: [9, 30],
    fieldPath: 'spec.selector.matchExpressions[0].operator',
    message: /must be one of "In", "NotIn", "Exists", "DoesNotExist", got string "Equals"/,
  },
  {
    name: 'missing-values.yaml',
    at: [9, 9],
    fieldPath: 'spec.selector.matchExpressions[0].values',
    message: /operator In needs values/,
  },
  {
    name: 'unknown-param.yaml',
    at: [12, 44],
    fieldPath: 'spec.containers[0].args[1]',
    message: /params\.nope, which spec\.params does not declare/,
  },
  {
    name: 'template-syntax.yaml',
    at: [11, 30],
    fieldPath: 'spec.containers[0].env[0].value',
    message: /unterminated template expression/,
  },
  {
    name: 'bad-regex.yaml',
    at: [8, 21],
    fieldPath: 'spec.params.port.pattern',
    message: /not a valid regular expression/,
  },
  {
    name: 'default-mismatch.yaml',
    at: [8, 21],
    fieldPath: 'spec.params.port.default',
    message: /default "http" does not match the param's pattern/,
  },
  {
    // The parser notices the unclosed `[` where the input ends.
    name: 'yaml-syntax.yaml',
    at: [8, 1],
    fieldPath: '',
    message: /Flow sequence/,
  },
  {
    name: 'not-a-policy.yaml',
    at: [2, 7],
    fieldPath: 'kind',
    message: /this is a ConfigMap, not a tandem\.dev\/v1alpha1 SidecarPolicy/,
  },
  {
    name: 'wrong-api-version.yaml',
    at: [1, 13],
    fieldPath: 'apiVersion',
    message: /unsupported apiVersion string "tandem\.dev\/v1": expected "tandem\.dev\/v1alpha1"/,
  },
] as const;

for (const broken of BROKEN) {
  t.test(`reports ${broken.name} with its file, line, column and field path`, async (t) => {
    const { file, text } = await fixture('broken', broken.name);
    const { documents, issues } = parsePolicyText(file, text);
    t.equal(issues.length, 1, 'exactly one issue');
    const [issue] = issues;
    t.strictSame(
      { file: issue?.file, line: issue?.line, column: issue?.column, field: issue?.fieldPath },
      { file, line: broken.at[0], column: broken.at[1], field: broken.fieldPath },
    );
    t.match(issue?.message, broken.message);
    t.notOk(
      documents.some((d) => d.policy !== undefined),
      'a document with an issue is not loaded',
    );
  });
}

t.test('reports every problem of every document in a file, not just the first', async (t) => {
  const { file, text } = await fixture('several', 'problems.yaml');
  const { issues } = parsePolicyText(file, text);
  t.strictSame(
    issues.map((i) => `${i.line}:${i.column} ${i.fieldPath}`),
    [
      '5:3 metadata.colour',
      '9:7 spec.containers[0].image',
      '18:21 spec.params.port.default',
      '21:14 spec.containers[0].image',
    ],
  );
});

t.test('reports a name defined twice at the second definition, naming the first', async (t) => {
  const dir = join(FIXTURES, 'duplicates');
  const result = await readPolicyDirectory(dir);
  t.strictSame(result.issues, [
    {
      file: join(dir, 'b.yaml'),
      line: 5,
      column: 9,
      fieldPath: 'metadata.name',
      message: `policy "shipper" is already defined at ${join(dir, 'a.yaml')}:4`,
    },
  ]);
  t.strictSame(
    result.set.byName.get('shipper')?.spec.containers?.map((c) => c.name),
    ['shipper-a'],
    'the first definition wins',
  );
});

t.test('points at the key of an annotation whose name holds dots and slashes', (t) => {
  const text = [
    'apiVersion: tandem.dev/v1alpha1',
    'kind: SidecarPolicy',
    'metadata: {name: dots}',
    'spec:',
    '  pattern: adapter',
    '  podAnnotations:',
    '    example.com/a.b: "{{ params.missing }}"',
  ].join('\n');
  const { issues } = parsePolicyText('dots.yaml', text);
  t.strictSame(
    issues.map((i) => [i.line, i.column, i.fieldPath]),
    [[7, 22, 'spec.podAnnotations.example.com/a.b']],
  );
  t.end();
});

t.test('a file of comments and empty documents holds no policy and no issue', (t) => {
  const result = parsePolicyText('empty.yaml', '# nothing yet\n---\n---\n# still nothing\n');
  t.strictSame(result, { documents: [], values: [], issues: [] });
  t.end();
});

t.test('a policy file that holds no policy is an issue at its first line', (t) => {
  for (const text of ['', '\n', '# apiVersion: tandem.dev/v1alpha1\n---\n']) {
    const result = buildPolicyDirectory([{ file: 'cut.yaml', text }]);
    t.strictSame(result.issues, [
      {
        file: 'cut.yaml',
        line: 1,
        column: 1,
        fieldPath: '',
        message:
          'the file holds no policy (it is empty or all comments); delete the file to remove its policies',
      },
    ]);
  }
  t.end();
});

t.test('a directory without a policy file is an issue naming the directory', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-empty-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'notes.txt'), 'not a policy');
  const result = await readPolicyDirectory(dir);
  t.strictSame(result.issues, [
    {
      file: dir,
      line: 0,
      column: 0,
      fieldPath: '',
      message: 'the directory holds no policy file (*.yaml, *.yml)',
    },
  ]);
  t.strictSame(result.set.byName.size, 0);
});

t.test('an alias bomb is an issue, not a hang', (t) => {
  // "Billion laughs": nine levels of nine aliases expand to 9^9 nodes.
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++) {
    const name = String.fromCharCode(98 + i);
    const prev = `*${String.fromCharCode(97 + i)}`;
    lines.push(`${name}: &${name} [${Array.from({ length: 9 }, () => prev).join(', ')}]`);
  }
  const { issues } = parsePolicyText('bomb.yaml', lines.join('\n'));
  t.strictSame(
    issues.map((i) => [i.line, i.message]),
    [[1, "the document's aliases expand it to more than 1,000,000 nodes (a YAML alias bomb?)"]],
  );
  t.end();
});

t.test('a policy may use one anchor more than 100 times', (t) => {
  const text = [
    'apiVersion: tandem.dev/v1alpha1',
    'kind: SidecarPolicy',
    'metadata: {name: many-aliases}',
    'spec:',
    '  pattern: sidecar',
    '  description: one resources block shared by every container',
    '  containers:',
    ...Array.from({ length: 101 }, (_, i) =>
      i === 0
        ? '    - {name: c0, image: busybox:1.37.0, resources: &r {requests: {cpu: 1m}}}'
        : `    - {name: c${i}, image: busybox:1.37.0, resources: *r}`,
    ),
  ].join('\n');
  const { issues, documents } = parsePolicyText('many.yaml', text);
  t.strictSame(issues, []);
  t.equal(documents[0]?.policy?.spec.containers?.length, 101);
  t.end();
});

t.test('loads a mounted ConfigMap through its top-level symlinks, once each', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-configmap-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // The layout the kubelet writes: files in a timestamped folder, `..data` pointing at
  // it, and one symlink per key at the top, so an update is one atomic rename.
  const stamp = join(dir, '..2025_01_01_00_00_00.000000001');
  await mkdir(stamp);
  for (const name of ['sidecars.yaml', 'metrics.yml']) {
    await writeFile(join(stamp, name), (await fixture('valid', name)).text);
    await symlink(join('..data', name), join(dir, name));
  }
  await symlink('..2025_01_01_00_00_00.000000001', join(dir, '..data'));
  const result = await readPolicyDirectory(dir);
  t.strictSame(result.issues, []);
  t.strictSame([...result.set.byName.keys()], ['metrics', 'log-shipper', 'redis-proxy']);
  t.equal(result.set.byName.get('metrics')?.source.file, join(dir, 'metrics.yml'));
});

t.test('loadPolicies throws PolicyInvalidError carrying every issue', async (t) => {
  const error = await loadPolicies(join(FIXTURES, 'several')).catch((e: unknown) => e);
  t.ok(error instanceof PolicyInvalidError);
  if (!(error instanceof PolicyInvalidError)) return;
  t.equal(error.code, 'TANDEM_ERR_POLICY_INVALID');
  t.equal(error.issues.length, 4);
  t.match(error.message, /4 problems:\n.*problems\.yaml:5:3: metadata\.colour: unknown field/);
});

t.test('loadPolicies returns the set when the directory is clean', async (t) => {
  const set = await loadPolicies(join(FIXTURES, 'valid'));
  t.equal(set.byName.size, 3);
});

t.test('an unreadable directory throws TANDEM_ERR_POLICY_LOAD with its cause', async (t) => {
  const error = await readPolicyDirectory(join(FIXTURES, 'no-such-dir')).catch((e: unknown) => e);
  t.ok(error instanceof TandemError);
  if (!(error instanceof TandemError)) return;
  t.equal(error.code, 'TANDEM_ERR_POLICY_LOAD');
  t.match(error.cause, { code: 'ENOENT' });
});

t.test('buildPolicyDirectory offers the position of any field of a loaded policy', (t) => {
  const text = [
    'apiVersion: tandem.dev/v1alpha1',
    'kind: SidecarPolicy',
    'metadata: {name: one}',
    'spec:',
    '  pattern: sidecar',
    '  containers:',
    '    - name: c',
    '      image: busybox',
  ].join('\n');
  const result = buildPolicyDirectory([{ file: 'one.yaml', text }]);
  const policy = result.set.byName.get('one');
  t.ok(policy !== undefined && result.locate !== undefined);
  if (policy === undefined || result.locate === undefined) return t.end();
  t.strictSame(result.locate(policy, 'spec.containers[0].image'), { line: 8, column: 14 });
  t.end();
});

t.test('reports a param name that templates could not reference, at its key', (t) => {
  const text = [
    'apiVersion: tandem.dev/v1alpha1',
    'kind: SidecarPolicy',
    'metadata: {name: params}',
    'spec:',
    '  pattern: sidecar',
    '  params:',
    '    9lives: {default: x}',
    '  containers: [{name: c, image: busybox}]',
  ].join('\n');
  const { issues } = parsePolicyText('params.yaml', text);
  t.strictSame(
    issues.map((i) => [i.line, i.column, i.fieldPath]),
    [[7, 5, 'spec.params.9lives']],
  );
  t.match(issues[0]?.message, /"9lives" is not a valid name: it must match/);
  t.end();
});

import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

// Every case starts the real CLI, some twice: minutes on a loaded 2-core machine.
t.setTimeout(600_000);

const EXAMPLE = readFileSync(path.join(REPO_ROOT, 'examples', 'deployment.yaml'), 'utf8');
const LIST_FILE = path.join(REPO_ROOT, 'test', 'fixtures', 'kubectl-get', 'deployments.yaml');
const LIST = readFileSync(LIST_FILE, 'utf8');
const LIST_JSON = readFileSync(LIST_FILE.replace(/\.yaml$/, '.json'), 'utf8');

/** objects is every document of a YAML or JSON stream, as plain values. */
function objects(text: string): unknown[] {
  return parseAllDocuments(text).map((document) => document.toJS() as unknown);
}

/** injectThenUninject runs both verbs through the real process, stdin to stdout. */
function injectThenUninject(input: string, uninjectArgs: readonly string[] = []) {
  const injected = runTandem(['inject', '-f', '-'], input);
  const back = runTandem(['uninject', '-f', '-', ...uninjectArgs], injected.stdout);
  return { injected, back };
}

t.test('tandem uninject gives back what tandem inject was given, exit 0', (t) => {
  const { injected, back } = injectThenUninject(EXAMPLE);
  t.equal(injected.code, 0, injected.stderr);
  t.match(injected.stdout, /tandem-nutcracker/);
  t.strictSame({ code: back.code, stderr: back.stderr }, { code: 0, stderr: '' });
  t.strictSame(objects(back.stdout), objects(EXAMPLE));
  t.end();
});

t.test('the items of a kind: List are uninjected, the rest of each object kept', (t) => {
  const { injected, back } = injectThenUninject(LIST);
  t.equal(injected.code, 0, injected.stderr);
  t.strictSame({ code: back.code, stderr: back.stderr }, { code: 0, stderr: '' });
  t.strictSame(parse(back.stdout), parse(LIST));
  t.end();
});

t.test('JSON in gives JSON out; -o yaml and -o json choose the form', (t) => {
  const { injected, back } = injectThenUninject(LIST_JSON);
  t.equal(injected.code, 0, injected.stderr);
  t.strictSame({ code: back.code, stderr: back.stderr }, { code: 0, stderr: '' });
  t.match(back.stdout, /^\{\n {4}"apiVersion": "v1",/);
  t.strictSame(JSON.parse(back.stdout), JSON.parse(LIST_JSON));
  const yaml = runTandem(['uninject', '-f', '-', '-o', 'yaml'], injected.stdout);
  t.equal(yaml.code, 0, yaml.stderr);
  t.notOk(yaml.stdout.trimStart().startsWith('{'), 'block YAML');
  t.strictSame(parse(yaml.stdout), JSON.parse(LIST_JSON));
  const fromYaml = injectThenUninject(EXAMPLE, ['-o', 'json']);
  const list = JSON.parse(fromYaml.back.stdout) as { kind: string; items: unknown[] };
  t.strictSame([list.kind, list.items], ['List', objects(EXAMPLE)], 'two documents: one List');
  t.end();
});

t.test('TANDEM_OUTPUT is the twin of -o, and -o wins', (t) => {
  const injected = runTandem(['inject', '-f', '-'], EXAMPLE);
  const json = runTandem(['uninject', '-f', '-'], injected.stdout, { TANDEM_OUTPUT: 'json' });
  t.strictSame((JSON.parse(json.stdout) as { items: unknown }).items, objects(EXAMPLE));
  const yaml = runTandem(['uninject', '-f', '-', '-o', 'yaml'], injected.stdout, {
    TANDEM_OUTPUT: 'json',
  });
  t.strictSame(objects(yaml.stdout), objects(EXAMPLE));
  t.end();
});

t.test(
  'several documents: what tandem did not inject is written byte for byte, # Source: comments stay',
  (t) => {
    const configMap =
      '# Source: chart/templates/config.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "1"}\n';
    const plain =
      '# Source: chart/templates/plain.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - {name: app, image: nginx}\n';
    const injected = runTandem(['inject', '-f', '-'], `${EXAMPLE}---\n${plain}`);
    t.equal(injected.code, 0, injected.stderr);
    const stream = `${configMap}---\n${injected.stdout}---\n${plain}`;
    const back = runTandem(['uninject', '-f', '-'], stream);
    t.strictSame({ code: back.code, stderr: back.stderr }, { code: 0, stderr: '' });
    t.ok(back.stdout.startsWith(`${configMap}---\n`), 'the ConfigMap byte for byte');
    t.ok(
      back.stdout.endsWith(`---\n${plain}---\n${plain}`),
      'the pod tandem left alone, byte for byte',
    );
    t.strictSame(
      objects(back.stdout),
      objects(`${configMap}---\n${EXAMPLE}---\n${plain}---\n${plain}`),
    );
    const untouched = runTandem(['uninject', '-f', '-'], `${configMap}---\n${EXAMPLE}`);
    t.strictSame(untouched, { code: 0, stdout: `${configMap}---\n${EXAMPLE}`, stderr: '' });
    t.end();
  },
);

t.test(
  'a status written before uninject existed: exit 1, nothing on stdout, the document named',
  (t) => {
    const old = `apiVersion: v1
kind: Pod
metadata:
  name: old
  annotations:
    tandem.dev/status: '{"policies":[],"containers":["tandem-fluent-bit"],"volumes":[]}'
spec:
  containers: [{name: app, image: nginx}]
`;
    const result = runTandem(['uninject', '-f', '-'], `${EXAMPLE}---\n${old}`);
    t.equal(result.code, 1);
    t.equal(result.stdout, '');
    t.match(
      result.stderr,
      /^tandem uninject: -: document 3 \(Pod\/old\): annotation tandem\.dev\/status was written by a tandem older than uninject: /,
    );
    t.end();
  },
);

t.test('usage errors exit 2: no -f, an unknown -o', (t) => {
  const none = runTandem(['uninject']);
  t.equal(none.code, 2);
  t.match(none.stderr, /^tandem uninject: -f FILE is required\n\nUsage: tandem uninject/);
  const bad = runTandem(['uninject', '-f', '-', '-o', 'xml'], EXAMPLE);
  t.strictSame(bad, {
    code: 2,
    stdout: '',
    stderr: 'tandem uninject: --output must be yaml or json, not "xml"\n',
  });
  const missing = runTandem(['uninject', '-f', 'no-such-file.yaml']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^tandem uninject: cannot read no-such-file\.yaml: /);
  t.end();
});

t.test('a sidecar edited since injection is removed, with what was gone warned about', (t) => {
  const injected = runTandem(['inject', '-f', '-'], EXAMPLE);
  const edited = injected.stdout
    .replace(/image: cr\.fluentbit\.io\/fluent\/fluent-bit[^\n]*/, 'image: fluent-bit:edited')
    .replace(/\n {12}- name: REDIS_AMBASSADOR_PASSWORD\n(?: {14}[^\n]*\n)+/, '\n');
  t.not(edited, injected.stdout, 'the test edited the injected output');
  const back = runTandem(['uninject', '-f', '-'], edited);
  t.equal(back.code, 0, back.stderr);
  t.strictSame(objects(back.stdout), objects(EXAMPLE));
  t.equal(
    back.stderr,
    'warning: -: document 1 (Deployment/cart): tandem.dev/status records env variable "REDIS_AMBASSADOR_PASSWORD" in container "cart" that tandem added, but the pod no longer has it: nothing to remove\n',
  );
  t.end();
});

import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadPolicies } from '../../src/policy/load.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { KUBECTL_SKIP, kubectlRead, withInjection } from '../fixtures/kubectl-read.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

// What `kubectl get deploy -n shop -o yaml` printed: a List of two Deployments, one
// asking for the log forwarder, with status, managedFields and resourceVersion.
const LIST_FILE = path.join(REPO_ROOT, 'test', 'fixtures', 'kubectl-get', 'deployments.yaml');
const LIST = readFileSync(LIST_FILE, 'utf8');
// The same objects as `kubectl get -o json` prints them.
const LIST_JSON = readFileSync(LIST_FILE.replace(/\.yaml$/, '.json'), 'utf8');

interface Item {
  kind: string;
  metadata: Record<string, unknown>;
  spec: { template: { metadata: { annotations?: Record<string, string> }; spec: Item['spec'] } };
  status?: unknown;
}

/** withoutTemplate is an item with its pod template cut out: all injection may not touch. */
function withoutTemplate(item: Item): unknown {
  const spec: Record<string, unknown> = { ...item.spec };
  delete spec.template;
  return { ...item, spec };
}

function sidecarNames(item: Item): string[] {
  const spec = item.spec.template.spec as unknown as { initContainers?: { name: string }[] };
  return (spec.initContainers ?? []).map((c) => c.name);
}

t.test('tandem inject injects the items of a kind: List, keeping the rest of each object', (t) => {
  const { code, stdout, stderr } = runTandem(['inject', '-f', '-'], LIST);
  t.equal(code, 0, stderr);
  t.match(stderr, /document 1 item 1 \(Deployment\/cart\)/, 'a warning names the item');
  const before = parse(LIST) as { items: Item[] };
  const after = parse(stdout) as { kind: string; items: Item[]; metadata: unknown };
  t.strictSame(after.kind, 'List');
  t.strictSame(after.metadata, { resourceVersion: '' });
  t.strictSame(after.items.map(sidecarNames), [['tandem-fluent-bit'], []]);
  t.strictSame(
    after.items.map(withoutTemplate),
    before.items.map(withoutTemplate),
    'status, managedFields, resourceVersion, uid and the rest are kept as they were',
  );
  t.end();
});

t.test(
  'kubectl reads the injected List as the objects it read, plus the injection',
  { skip: KUBECTL_SKIP },
  async (t) => {
    const policies = await loadPolicies(path.join(REPO_ROOT, 'policies'));
    const { stdout } = runTandem(['inject', '-f', '-'], LIST);
    const expected = (await kubectlRead(LIST)).map((object) => withInjection(object, policies));
    t.strictSame(await kubectlRead(stdout), expected);
  },
);

t.test('tandem explain explains each item of a List', (t) => {
  const { code, stdout } = runTandem(['explain', '-f', '-'], LIST);
  t.equal(code, 0);
  t.match(stdout, /^Deployment\/cart \(namespace shop\):\n {2}\+ log-forwarder: inject/m);
  t.match(stdout, /^Deployment\/plain \(namespace shop\):\n[^]*result: nothing to inject/m);
  t.notMatch(stdout, /no pods or pod templates found/);
  t.end();
});

t.test('a denied List item stops the write and is named by document and item', (t) => {
  const denied = LIST.replace('tandem.dev/inject: log-forwarder', 'tandem.dev/inject: nope');
  const { code, stdout, stderr } = runTandem(['inject', '-f', '-'], denied);
  t.strictSame({ code, stdout }, { code: 1, stdout: '' });
  t.match(stderr, /^tandem inject: -: document 1 item 1 \(Deployment\/cart\): denied: /m);
  t.end();
});

t.test('JSON in, JSON out: an injected JSON document is written back as JSON', (t) => {
  const json = runTandem(['inject', '-f', '-'], LIST_JSON);
  const yaml = runTandem(['inject', '-f', '-'], LIST);
  t.equal(json.code, 0, json.stderr);
  t.ok(json.stdout.startsWith('{\n    "apiVersion": "v1",'), 'indented as kubectl -o json');
  t.strictSame(JSON.parse(json.stdout), parse(yaml.stdout), 'the same objects as from YAML');
  t.end();
});

t.test('an untouched JSON document comes out byte for byte', (t) => {
  const service = '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}\n';
  t.strictSame(runTandem(['inject', '-f', '-'], service), { code: 0, stdout: service, stderr: '' });
  t.end();
});

t.test('JSON keeps an integer past 2^53 exact', (t) => {
  const pod = JSON.parse(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        annotations: {
          'tandem.dev/inject': 'log-forwarder',
          'log-forwarder.tandem.dev/host': 'fluentd',
        },
      },
      spec: { containers: [{ name: 'a', image: 'a' }], activeDeadlineSeconds: 1 },
    }),
  ) as unknown;
  const text = JSON.stringify(pod).replace(
    '"activeDeadlineSeconds":1',
    '"activeDeadlineSeconds":9223372036854775807',
  );
  const { code, stdout, stderr } = runTandem(['inject', '-f', '-'], text);
  t.equal(code, 0, stderr);
  t.match(stdout, /"activeDeadlineSeconds": 9223372036854775807\b/);
  t.end();
});

t.test('-o yaml writes JSON input as YAML, -o json writes YAML input as JSON', (t) => {
  const asYaml = runTandem(['inject', '-o', 'yaml', '-f', '-'], LIST_JSON);
  t.equal(asYaml.code, 0, asYaml.stderr);
  t.notOk(asYaml.stdout.trimStart().startsWith('{'), 'block YAML, not JSON');
  const fromYaml = runTandem(['inject', '-f', '-'], LIST);
  t.strictSame(parse(asYaml.stdout), parse(fromYaml.stdout));

  const one = runTandem(['inject', '--output', 'json', '-f', '-'], LIST);
  t.equal(one.code, 0, one.stderr);
  t.strictSame(JSON.parse(one.stdout), parse(fromYaml.stdout), 'one document: that object');

  const example = path.join(REPO_ROOT, 'examples', 'deployment.yaml');
  const many = runTandem(['inject', '-o', 'json', '-f', example]);
  const manyYaml = runTandem(['inject', '-f', example]);
  t.strictSame(
    JSON.parse(many.stdout),
    {
      apiVersion: 'v1',
      kind: 'List',
      items: parseAllDocuments(manyYaml.stdout).map((d) => d.toJS() as unknown),
    },
    'several documents: a List of them, as kubectl get -o json prints',
  );
  t.end();
});

t.test('an unknown -o format is a usage error', (t) => {
  const { code, stderr } = runTandem(['inject', '-o', 'xml', '-f', '-'], LIST);
  t.equal(code, 2);
  t.match(stderr, /--output must be yaml or json, not "xml"/);
  t.end();
});

t.test("helm template's # Source: comments stay on injected and untouched documents", (t) => {
  const pod = [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: web',
    '  annotations:',
    '    tandem.dev/inject: log-forwarder',
    '    log-forwarder.tandem.dev/host: fluentd',
    'spec:',
    '  containers:',
    '    - name: web',
    '      image: nginx:1.27',
    '',
  ].join('\n');
  const service = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n';
  const helm = [
    '---\n# Source: web/templates/service.yaml\n',
    service,
    '---\n# Source: web/templates/pod.yaml\n',
    pod,
  ].join('');
  const { code, stdout, stderr } = runTandem(['inject', '-f', '-'], helm);
  t.equal(code, 0, stderr);
  const documents = stdout.split(/^---\n/m).slice(1);
  t.equal(documents.length, 2);
  t.equal(documents[0], `# Source: web/templates/service.yaml\n${service}`);
  t.match(documents[1], /^# Source: web\/templates\/pod\.yaml\napiVersion: v1\nkind: Pod\n/);
  t.match(documents[1], /tandem-fluent-bit/);
  t.end();
});

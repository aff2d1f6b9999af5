import t from 'tap';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { builtCli } from '../fixtures/built-cli.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'deployment.yaml');

/** tandem runs the real command line, as built, in a real process. */
function tandem(args: string[], input?: string) {
  const result = spawnSync(process.execPath, builtCli(args), {
    cwd: REPO_ROOT,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

t.test('tandem inject prints the injected Deployment and passes other documents through', (t) => {
  const { code, stdout, stderr } = tandem(['inject', '-f', EXAMPLE]);
  t.equal(code, 0, stderr);
  const documents = parseAllDocuments(stdout).map(
    (d) => d.toJS() as { kind: string; spec: Record<string, unknown> },
  );
  t.strictSame(
    documents.map((d) => d.kind),
    ['Deployment', 'Service'],
  );
  const template = (documents[0]?.spec.template ?? {}) as {
    spec: { initContainers: { name: string }[] };
  };
  t.strictSame(
    template.spec.initContainers.map((c) => c.name),
    [
      'tandem-nutcracker-config',
      'tandem-nutcracker',
      'tandem-nutcracker-gate',
      'tandem-fluent-bit',
    ],
  );
  t.match(stderr, /uses defaults for params/, 'warnings go to standard error');
  t.end();
});

t.test('tandem inject over its own output changes nothing, reading standard input', (t) => {
  const first = tandem(['inject', '-f', EXAMPLE]);
  const second = tandem(['inject', '-f', '-'], first.stdout);
  t.equal(second.code, 0, second.stderr);
  t.equal(second.stdout, first.stdout);
  t.end();
});

t.test(
  'tandem inject writes nothing and exits 1 when a pod is denied, naming the document',
  (t) => {
    const manifest =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    tandem.dev/inject: nope\nspec:\n  containers: [{name: a, image: a}]\n';
    const { code, stdout, stderr } = tandem(['inject', '-f', '-'], manifest);
    t.equal(code, 1);
    t.equal(stdout, '');
    t.match(
      stderr,
      /-: document 1 \(Pod\/p\): denied: tandem\.dev\/inject requests policy "nope", which does not exist/,
    );
    t.end();
  },
);

t.test('tandem explain says why each policy applies or not', (t) => {
  const { code, stdout } = tandem(['explain', '-f', EXAMPLE]);
  t.equal(code, 0);
  t.match(stdout, /Deployment\/cart \(namespace shop\):/);
  t.match(stdout, /\+ redis-ambassador: inject \(requested in tandem\.dev\/inject\)/);
  t.match(
    stdout,
    /- metrics-adapter: skip \(not requested in tandem\.dev\/inject and has no selector\)/,
  );
  t.match(stdout, /result: inject redis-ambassador, log-forwarder/);
  t.end();
});

t.test('usage errors exit 2 with the help; --help exits 0', (t) => {
  for (const verb of ['inject', 'explain']) {
    t.equal(tandem([verb]).code, 2, `${verb} without -f`);
    t.equal(tandem([verb, '-f', EXAMPLE, '--bogus']).code, 2, `${verb} with an unknown flag`);
    t.equal(
      tandem([verb, '-f', EXAMPLE, '--sidecar-mode', 'sideways']).code,
      2,
      `${verb} with a bad mode`,
    );
    const help = tandem([verb, '--help']);
    t.equal(help.code, 0);
    t.match(help.stdout, /--sidecar-mode/);
  }
  t.equal(tandem(['frobnicate']).code, 2, 'an unknown verb');
  t.end();
});

t.test('a missing file and broken policies are errors that say what and where', (t) => {
  const missing = tandem(['inject', '-f', 'no-such.yaml']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot read no-such\.yaml/);
  const broken = tandem(['inject', '-f', EXAMPLE, '--policies', 'test/fixtures/policies/broken']);
  t.equal(broken.code, 1);
  t.match(broken.stderr, /bad-name\.yaml:4:9: metadata\.name:/);
  t.end();
});

t.test('--namespace-labels gives offline runs the labels a namespaceSelector needs', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(path.join(tmpdir(), 'tandem-ns-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    path.join(dir, 'prod-only.yaml'),
    'apiVersion: tandem.dev/v1alpha1\nkind: SidecarPolicy\nmetadata: {name: prod-only}\nspec:\n  pattern: adapter\n  namespaceSelector: {matchLabels: {env: prod}}\n  containers: [{name: prod-adapter, image: registry.example/adapter:1}]\n',
  );
  const labels = `${dir}.labels.yaml`;
  t.teardown(() => rm(labels, { force: true }));
  await writeFile(labels, 'shop: {env: prod}\n');
  const pod =
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\n  annotations: {tandem.dev/inject: prod-only}\nspec:\n  containers: [{name: a, image: a}]\n';
  const without = tandem(['explain', '-f', '-', '--policies', dir], pod);
  t.equal(without.code, 1);
  t.match(without.stdout, /namespace "shop" may not use/);
  const labelled = tandem(
    ['explain', '-f', '-', '--policies', dir, '--namespace-labels', labels],
    pod,
  );
  t.equal(labelled.code, 0, labelled.stderr);
  t.match(labelled.stdout, /result: inject prod-only/);
});

t.test('every broken document of a manifest is reported at once, each with its line', (t) => {
  const input = 'a: [\n---\nkind: Service\n---\nb: "x\n';
  const { code, stdout, stderr } = tandem(['inject', '-f', '-'], input);
  t.strictSame({ code, stdout }, { code: 1, stdout: '' });
  t.match(stderr, /^tandem inject: 2 problems:\n {2}-:2: Flow sequence in block collection/);
  t.match(stderr, /\n {2}-:\d+: Missing closing "quote/);
  t.end();
});

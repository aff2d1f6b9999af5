import t, { type Test } from 'tap';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

const GOLDEN = path.join(REPO_ROOT, 'test', 'fixtures', 'golden');

/** casesFrom copies golden cases into a fresh folder, to be edited by a test. */
function casesFrom(t: Test, names: readonly string[]): string {
  const root = mkdtempSync(path.join(tmpdir(), 'tandem-test-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const name of names)
    cpSync(path.join(GOLDEN, name), path.join(root, name), { recursive: true });
  return root;
}

t.test('a failing case is reported with every reason and the exit code is 1', (t) => {
  const root = casesFrom(t, ['log-forwarder', 'windows-node-selector', 'metrics-adapter']);
  const expected = path.join(root, 'log-forwarder', 'expected.yaml');
  writeFileSync(
    expected,
    readFileSync(expected, 'utf8').replace('fluent-bit:4.2.8', 'fluent-bit:9.9.9'),
  );
  writeFileSync(
    path.join(root, 'windows-node-selector', 'expected.denied.txt'),
    'a reason never given\n',
  );
  writeFileSync(path.join(root, 'metrics-adapter', 'expectd.yaml'), 'misspelt\n');
  const { code, stdout } = runTandem(['test', root]);
  t.equal(code, 1);
  t.match(
    stdout,
    `FAIL ${root}/log-forwarder\n    the injected object differs from expected.yaml:\n`,
  );
  t.match(
    stdout,
    /^ {6}\/spec\/initContainers\/0\/image: got "cr\.fluentbit\.io\/fluent\/fluent-bit:4\.2\.8"$/m,
  );
  t.match(
    stdout,
    `FAIL ${root}/windows-node-selector\n    the denial does not contain the text of expected.denied.txt:\n      expected: a reason never given\n`,
  );
  t.match(stdout, `FAIL ${root}/metrics-adapter\n    expectd.yaml: not a file of a case\n`);
  t.match(stdout, /\n3 cases: 0 passed, 3 failed\n$/);
  t.end();
});

t.test(
  '--update writes the expected files from what the engine does, and the cases pass after',
  (t) => {
    const root = casesFrom(t, ['log-forwarder', 'windows-node-selector']);
    rmSync(path.join(root, 'log-forwarder', 'expected.yaml'));
    rmSync(path.join(root, 'windows-node-selector', 'expected.denied.txt'));
    const update = runTandem(['test', root, '--update']);
    t.equal(update.code, 0, update.stdout);
    t.match(update.stdout, `UPDATED ${root}/log-forwarder\n`);
    t.match(update.stdout, /2 cases: 0 passed, 0 failed, 2 updated/);
    t.ok(existsSync(path.join(root, 'log-forwarder', 'expected.yaml')));
    t.match(
      readFileSync(path.join(root, 'windows-node-selector', 'expected.denied.txt'), 'utf8'),
      /this is a Windows pod \(nodeSelector kubernetes\.io\/os: windows\)/,
    );
    const again = runTandem(['test', root]);
    t.strictSame(
      { code: again.code, summary: /\d+ cases: .*$/m.exec(again.stdout)?.[0] },
      { code: 0, summary: '2 cases: 2 passed, 0 failed' },
    );
    t.end();
  },
);

t.test(
  'context.yaml: a 1.28 cluster gets classic sidecars, and namespace labels reach namespaceSelector',
  (t) => {
    const root = casesFrom(t, ['log-forwarder']);
    const dir = path.join(root, 'log-forwarder');
    rmSync(path.join(dir, 'expected.patch.json'));
    writeFileSync(path.join(dir, 'context.yaml'), 'kubernetesVersion: "1.28"\n');
    const old = runTandem(['test', root, '--update']);
    t.equal(old.code, 0, old.stdout);
    const classic = readFileSync(path.join(dir, 'expected.yaml'), 'utf8');
    t.notMatch(classic, /initContainers/, 'no native sidecar on 1.28');
    t.match(classic, /name: tandem-fluent-bit/);
    writeFileSync(
      path.join(dir, 'policies.yaml'),
      [
        'apiVersion: tandem.dev/v1alpha1',
        'kind: SidecarPolicy',
        'metadata: {name: team-only}',
        'spec:',
        '  pattern: sidecar',
        '  selector: {matchLabels: {}}',
        '  namespaceSelector: {matchLabels: {team: a}}',
        '  containers: [{name: team-only, image: busybox:1.37.0}]',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'context.yaml'),
      'kubernetesVersion: "1.28"\nnamespaceLabels: {team: a}\n',
    );
    const labelled = runTandem(['test', root]);
    t.equal(labelled.code, 1, 'the automatic policy now applies, so the old expectation fails');
    t.match(labelled.stdout, /\/spec\/containers\/2: not expected \{"name":"team-only"/);
    t.end();
  },
);

t.test('a context.yaml with wrong fields fails its case naming each field', (t) => {
  const root = casesFrom(t, ['log-forwarder']);
  writeFileSync(
    path.join(root, 'log-forwarder', 'context.yaml'),
    'sidecarMode: sometimes\nkubernetesVersion: 1.28\nnamespace: x\n',
  );
  const { code, stdout } = runTandem(['test', root]);
  t.equal(code, 1);
  t.match(stdout, 'context.yaml: kubernetesVersion: must be a string such as "1.29"');
  t.match(stdout, 'context.yaml: sidecarMode: must be native or classic');
  t.match(stdout, "context.yaml: namespace: not a field of a case's context");
  t.end();
});

t.test('a folder without cases is an error, not a pass', (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'tandem-test-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const { code, stderr } = runTandem(['test', root]);
  t.equal(code, 1);
  t.match(stderr, `no test cases (folders with pod.yaml) under ${root}`);
  t.end();
});

import { join } from 'node:path';
import t from 'tap';
import { lintPolicies } from '../../src/policy/lint.ts';
import { buildPolicyDirectory, readPolicyDirectory } from '../../src/policy/load.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'policies');

t.test('policies that can share a pod lint clean', async (t) => {
  const result = await readPolicyDirectory(join(FIXTURES, 'valid'));
  t.strictSame(lintPolicies(result), []);
});

t.test(
  'reports each name or value two policies would both add, at the second, as admission compares them',
  async (t) => {
    const dir = join(FIXTURES, 'conflicts');
    const first = join(dir, 'a-logs.yaml');
    const issues = lintPolicies(await readPolicyDirectory(dir));
    t.strictSame(
      issues.map((i) => `${i.line}:${i.column} ${i.fieldPath}: ${i.message}`),
      [
        `10:13 spec.initContainers[0].name: container "agent" is also added by policy "logs" (${first}:8)`,
        `15:22 spec.containers[0].ports[0].name: port name "http" is also added by policy "logs" (${first}:10)`,
        // The port is `{{ params.port }}`: it conflicts at the param's default.
        `15:43 spec.containers[0].ports[0].containerPort: port 8080/TCP is also added by policy "logs" (${first}:10)`,
        `17:14 spec.volumes[0].name: volume "shared" is also added by policy "logs" (${first}:12)`,
        `20:35 spec.appContainer.volumeMounts[0].mountPath: app mount path "/var/log/app" is also added by policy "logs" (${first}:15)`,
        // Both set the app's LOG_DIR: admission keeps the first value with a warning, as
        // the API server accepts a repeated env name, so it is no lint error either.
      ],
    );
    t.ok(
      issues.every((i) => i.file === join(dir, 'b-metrics.yaml')),
      'every issue is in the second file',
    );
  },
);

t.test('keeps the load issues and puts them in file order with the conflicts', (t) => {
  const result = buildPolicyDirectory([
    { file: 'a.yaml', text: policy('a', 'agent', 'image: busybox') },
    { file: 'b.yaml', text: policy('b', 'agent', 'image: busybox') },
    { file: 'c.yaml', text: policy('c', 'other', 'imagez: busybox') },
  ]);
  t.strictSame(
    lintPolicies(result).map((i) => `${i.file}:${i.line}:${i.column} ${i.fieldPath}`),
    ['b.yaml:7:13 spec.containers[0].name', 'c.yaml:7:7 spec.containers[0].image'],
  );
  t.end();
});

t.test('reports a container name used twice within one policy', (t) => {
  const text = policy('twice', 'agent', 'image: busybox').concat(
    '    - name: agent\n      image: busybox\n',
  );
  const issues = lintPolicies(buildPolicyDirectory([{ file: 'twice.yaml', text }]));
  t.strictSame(
    issues.map((i) => `${i.line}:${i.column} ${i.fieldPath}: ${i.message}`),
    [
      '9:13 spec.containers[1].name: container "agent" is also added earlier in this policy (line 7)',
    ],
  );
  t.end();
});

t.test('ports clash by number and protocol: 9102/UDP and 9102/TCP are two sockets', (t) => {
  const tcp = policy('tcp', 'a', 'image: x\n      ports: [{containerPort: 9102}]');
  const udp = policy('udp', 'b', 'image: x\n      ports: [{containerPort: 9102, protocol: UDP}]');
  const again = policy(
    'again',
    'c',
    'image: x\n      ports: [{containerPort: 9102, protocol: TCP}]',
  );
  const issues = lintPolicies(
    buildPolicyDirectory([
      { file: 'a.yaml', text: tcp },
      { file: 'b.yaml', text: udp },
      { file: 'c.yaml', text: again },
    ]),
  );
  t.strictSame(
    issues.map((i) => `${i.file} ${i.message}`),
    ['c.yaml port 9102/TCP is also added by policy "tcp" (a.yaml:9)'],
  );
  t.end();
});

t.test('a plain init container holds no port: it has exited before the app starts', (t) => {
  const text = policy('init', 'setup', 'image: busybox')
    .replace('containers:', 'initContainers:')
    .concat('      ports: [{containerPort: 9102}]\n');
  const other = buildPolicyDirectory([
    { file: 'a.yaml', text },
    { file: 'b.yaml', text: policy('b', 'b', 'image: x\n      ports: [{containerPort: 9102}]') },
  ]);
  t.strictSame(lintPolicies(other), []);
  t.end();
});

t.test('with pss, reports a privileged container at its securityContext', (t) => {
  const text = policy('priv', 'agent', 'image: busybox\n      securityContext: {privileged: true}');
  const issues = lintPolicies(buildPolicyDirectory([{ file: 'priv.yaml', text }]), {
    pss: 'baseline',
  });
  t.strictSame(
    issues.map((i) => `${i.line} ${i.fieldPath}: ${i.message}`),
    [
      '9 spec.containers[0].securityContext: Pod Security "baseline": securityContext.privileged must not be true',
    ],
  );
  t.end();
});

t.test("with pss restricted, tandem's defaults make a plain container pass", async (t) => {
  const result = await readPolicyDirectory(join(FIXTURES, 'valid'));
  t.strictSame(lintPolicies(result, { pss: 'restricted' }), []);
});

/** policy writes a one-container policy; `rest` follows the container's name line. */
function policy(name: string, container: string, rest: string): string {
  return [
    'apiVersion: tandem.dev/v1alpha1',
    'kind: SidecarPolicy',
    `metadata: {name: ${name}}`,
    'spec:',
    '  pattern: sidecar',
    '  containers:',
    `    - name: ${container}`,
    `      ${rest}`,
    '',
  ].join('\n');
}

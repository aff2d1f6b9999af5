/**
 * Issue 10 case 2: mount paths compare as the kubelet resolves them, so one directory
 * spelt two ways is one mount, and the clash is denied as for the same spelling.
 */
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { injectPod } from '../../src/inject/engine.ts';
import { resolveMountPath } from '../../src/rules/mount-path.ts';
import { lintPolicies } from '../../src/policy/lint.ts';
import { buildPolicyDirectory, loadPolicies } from '../../src/policy/load.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { appPod } from '../fixtures/pods.ts';
import { context, policySet } from '../fixtures/policies.ts';

const builtins = await loadPolicies(path.join(REPO_ROOT, 'policies'));

t.test("mount paths resolve as Go's path.Clean of an absolute path, as the kubelet's", (t) => {
  // Expected values are Go's path.Clean("/" + p); Node's path.posix.normalize keeps the
  // trailing slash of "/var/log/app/" and so would miss the first clash below.
  const table: [string, string][] = [
    ['/var/log/app', '/var/log/app'],
    ['/var/log/app/', '/var/log/app'],
    ['//var/log/app', '/var/log/app'],
    ['/var//log///app//', '/var/log/app'],
    ['/var/log/./app', '/var/log/app'],
    ['/var/log/app/.', '/var/log/app'],
    ['/var/log/x/../app', '/var/log/app'],
    ['/var/log/app/..', '/var/log'],
    ['/../var/log/app', '/var/log/app'],
    ['/a/b/../../..', '/'],
    ['var/log/app', '/var/log/app'],
    ['/', '/'],
    ['', '/'],
    ['.', '/'],
    ['/a/...', '/a/...'],
    ['/a/.b/..c', '/a/.b/..c'],
  ];
  t.strictSame(
    table.map(([input]) => [input, resolveMountPath(input)]),
    table,
  );
  t.end();
});

t.test(
  'an app mount at /var/log/app spelt another way clashes with log-forwarder: the pod is denied',
  (t) => {
    for (const spelling of ['/var/log/app/', '//var/log/app', '/var/log/./app', '/var/log/app/.']) {
      const pod = appPod({
        'tandem.dev/inject': 'log-forwarder',
        'log-forwarder.tandem.dev/host': 'fluentd.logging.svc',
      });
      if (pod.spec) {
        pod.spec.volumes = [{ name: 'logs', emptyDir: {} }];
        const app = pod.spec.containers[0];
        if (app) app.volumeMounts = [{ name: 'logs', mountPath: spelling }];
      }
      t.strictSame(
        injectPod(pod, builtins, context()),
        {
          outcome: 'denied',
          code: 'MountClash',
          policy: 'log-forwarder',
          reason: `policy "log-forwarder" mounts /var/log/app in container "app", which already has a mount there (as ${JSON.stringify(spelling)})`,
          warnings: [
            'policy "log-forwarder" uses defaults for params the pod does not set: port=24224, output=forward, tls=off, secret=log-forwarder-tls, logDir=/var/log/app, files=*.log, tag=app, sizeLimit=256Mi, multiline=off',
          ],
        },
        spelling,
      );
    }
    t.end();
  },
);

t.test("a policy param that spells the app's mount path another way is denied too", (t) => {
  const pod = appPod({
    'tandem.dev/inject': 'log-forwarder',
    'log-forwarder.tandem.dev/host': 'fluentd.logging.svc',
    'log-forwarder.tandem.dev/logDir': '/data/logs',
  });
  if (pod.spec) {
    pod.spec.volumes = [{ name: 'logs', emptyDir: {} }];
    const app = pod.spec.containers[0];
    if (app) app.volumeMounts = [{ name: 'logs', mountPath: '/data/x/../logs/' }];
  }
  const result = injectPod(pod, builtins, context());
  t.strictSame(
    result.outcome === 'denied' ? `${result.code}: ${result.reason}` : result.outcome,
    'MountClash: policy "log-forwarder" mounts /data/logs in container "app", which already has a mount there (as "/data/x/../logs/")',
  );
  t.end();
});

t.test('an injected container mounting one directory twice, spelt two ways, is denied', (t) => {
  const policies = policySet(`
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: twice}
spec:
  pattern: sidecar
  volumes: [{name: one, emptyDir: {}}, {name: two, emptyDir: {}}]
  containers:
    - name: twice
      image: registry.example/x:1
      volumeMounts: [{name: one, mountPath: /data}, {name: two, mountPath: /data/./}]
`);
  const result = injectPod(appPod({ 'tandem.dev/inject': 'twice' }), policies, context());
  t.strictSame(
    result.outcome === 'denied' ? `${result.code}: ${result.reason}` : result.outcome,
    'MountClash: policy "twice": container "twice" would mount /data twice',
  );
  t.end();
});

t.test('lint reports two policies mounting one app directory spelt two ways', (t) => {
  const policy = (name: string, mountPath: string): string => `
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: ${name}}
spec:
  pattern: sidecar
  volumes: [{name: ${name}-v, emptyDir: {}}]
  containers: [{name: ${name}, image: registry.example/x:1}]
  appContainer:
    volumeMounts: [{name: ${name}-v, mountPath: '${mountPath}'}]
`;
  const issues = lintPolicies(
    buildPolicyDirectory([
      { file: 'a.yaml', text: policy('a', '/var/log/app') },
      { file: 'b.yaml', text: policy('b', '/var/log/app/') },
    ]),
  );
  t.strictSame(
    issues.map((i) => `${i.file} ${i.fieldPath}: ${i.message}`),
    [
      'b.yaml spec.appContainer.volumeMounts[0].mountPath: app mount path "/var/log/app" is also added by policy "a" (a.yaml:10)',
    ],
  );
  t.end();
});

t.test('the shortcut for clean mount paths resolves every path as the segment rule does', (t) => {
  // The rule itself, segment by segment: what resolveMountPath must equal for any path,
  // whether or not its shortcut for clean paths takes it.
  const bySegments = (mountPath: string): string => {
    const segments: string[] = [];
    for (const segment of mountPath.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment === '..') segments.pop();
      else segments.push(segment);
    }
    return `/${segments.join('/')}`;
  };
  const piece = fc.constantFrom('/', '.', '..', 'a', 'log', '.b', 'c.', '//');
  // fast-check names the shortest path on which the two differ.
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      const mountPath = pieces.join('');
      return resolveMountPath(mountPath) === bySegments(mountPath);
    }),
    { numRuns: 5000 },
  );
  t.pass('resolveMountPath agrees with the segment rule on 5,000 generated paths');
  t.end();
});

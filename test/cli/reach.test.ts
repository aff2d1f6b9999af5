import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { MESH_POLICIES } from '../fixtures/mesh-policies.ts';
import { OLD_WEBHOOK } from '../fixtures/old-webhook.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

// Issue 12 item 3: `lint` and `explain` tell the truth about the cluster. A policy that
// no pod can reach through the webhook configuration (derived, or the one deployed) is a
// lint issue at the field that makes it so; explain says why a pod is never sent.

const KUBE_SYSTEM_ONLY = `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: node-agent}
spec:
  pattern: sidecar
  namespaceSelector:
    matchExpressions:
      - {key: kubernetes.io/metadata.name, operator: In, values: [kube-system]}
  containers:
    - {name: node-agent, image: registry.example/agent:1.0}
`;

async function workspace(t: Test, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-reach-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

t.test(
  'lint reports a policy only kube-system may use, which the webhook never sends',
  async (t) => {
    const dir = await workspace(t, { 'node-agent.yaml': KUBE_SYSTEM_ONLY });
    const run = runTandem(['lint', dir]);
    t.equal(run.code, 1);
    t.match(
      run.stdout,
      `${join(dir, 'node-agent.yaml')}:7:5: spec.namespaceSelector: the webhook configuration derived from the policies never sends tandem a pod that requests this policy in namespace "kube-system"`,
    );
    t.match(
      run.stdout,
      /its namespaceSelector does not match: kubernetes\.io\/metadata\.name notin \(kube-system,tandem-system\)/,
    );
  },
);

t.test('lint with the derived configuration finds every mesh policy reachable', async (t) => {
  const dir = await workspace(t, { 'mesh.yaml': MESH_POLICIES });
  const run = runTandem(['lint', dir]);
  t.strictSame([run.code, run.stdout], [0, '5 policies OK\n']);
});

t.test('lint --webhook names each policy the deployed configuration cannot reach', async (t) => {
  const dir = await workspace(t, { 'mesh.yaml': MESH_POLICIES, 'old.yaml.txt': OLD_WEBHOOK });
  const run = runTandem(['lint', dir, '--webhook', join(dir, 'old.yaml.txt')]);
  t.equal(run.code, 1);
  const fields = run.stdout
    .trim()
    .split('\n')
    .map((line) => /^[^:]+:(\d+):\d+: ([\w.]+): /.exec(line)?.slice(1, 3).join(' '));
  // web-metrics (app=web), team-logs (tier), mesh-proxy (by namespace), debug-shell:
  // none of their pods carries the annotation or a tandem.dev/ label.
  t.strictSame(fields, [
    '6 spec.namespaceInjection',
    '18 spec.selector',
    '30 spec.selector',
    '44 spec.selector',
  ]);
  t.match(
    run.stdout,
    /a pod with labels app=web in namespace "default" .* is not sent: webhook inject\.tandem\.dev: its matchCondition "asks-for-tandem" is false/,
  );
});

t.test('lint --webhook with a file that holds no webhook configuration exits 2', async (t) => {
  const dir = await workspace(t, { 'mesh.yaml': MESH_POLICIES, 'empty.txt': 'kind: ConfigMap\n' });
  const run = runTandem(['lint', dir, '--webhook', join(dir, 'empty.txt')]);
  t.equal(run.code, 2);
  t.match(run.stderr, /holds no MutatingWebhookConfiguration/);
});

const DEPLOYMENTS = `apiVersion: v1
kind: Pod
metadata: {name: asks, namespace: quiet, annotations: {tandem.dev/inject: on-request}}
spec: {containers: [{name: app, image: registry.example/app:1.0}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: app, image: registry.example/app:1.0}]}
`;

t.test('explain says when the API server never sends a pod to tandem, and why', async (t) => {
  const dir = await workspace(t, {
    'mesh.yaml': MESH_POLICIES,
    'pods.yaml.txt': DEPLOYMENTS,
    'labels.yaml.txt': 'quiet: {tandem.dev/injection: disabled}\nshop: {}\n',
    'old.yaml.txt': OLD_WEBHOOK,
  });
  const args = ['explain', '-f', join(dir, 'pods.yaml.txt'), '--policies', dir];
  const labels = ['--namespace-labels', join(dir, 'labels.yaml.txt')];
  const derived = runTandem([...args, ...labels]);
  t.equal(derived.code, 0, derived.stderr);
  t.match(
    derived.stdout,
    'Pod/asks (namespace quiet):\n  + on-request: inject (requested in tandem.dev/inject)\n',
  );
  t.match(
    derived.stdout,
    '  not sent to tandem: webhook inject.tandem.dev: its namespaceSelector does not match: tandem.dev/injection notin (disabled)\n',
  );
  t.match(
    derived.stdout,
    '  result: not injected: the API server does not send this pod to tandem (tandem would inject on-request)\n',
  );
  t.match(derived.stdout, 'Pod/web (namespace shop):\n');
  t.match(derived.stdout, /Pod\/web \(namespace shop\):[^]*result: inject web-metrics\n/);

  const deployed = runTandem([...args, ...labels, '--webhook', join(dir, 'old.yaml.txt')]);
  t.match(
    deployed.stdout,
    /Pod\/web \(namespace shop\):[^]*not sent to tandem: webhook inject\.tandem\.dev: its matchCondition "asks-for-tandem" is false\n {2}result: not injected: the API server does not send this pod to tandem \(tandem would inject web-metrics\)\n/,
  );
});

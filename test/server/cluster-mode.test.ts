import t, { type Test } from 'tap';
import { startClusterServe } from '../fixtures/kube/cluster-serve.ts';
import { send, sendReview } from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

// Each case starts a real `tandem serve` that loads @kubernetes/client-node: on a loaded
// 2-core machine that alone can take tens of seconds, past tap's 30 s default.
t.setTimeout(180_000);

// `tandem serve` in cluster mode, end to end: a real child process finds a (fake, local)
// apiserver through KUBECONFIG as kubectl would, asks its version, fills its namespace
// cache through the real client-node, and only then reports ready.
const PRIVILEGED_POLICY = `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: debug-tools}
spec:
  pattern: sidecar
  containers:
    - name: debug-tools
      image: registry.example/debug:1.0
      securityContext: {privileged: true}
`;

function startServe(t: Test, versionFile: string) {
  return startClusterServe(t, { versionFile, policies: { 'debug-tools.yaml': PRIVILEGED_POLICY } });
}

t.test('cluster mode: ready after the namespace list, native sidecars on 1.35', async (t) => {
  const { port, ca, fake, log } = await startServe(t, 'version-kind-1.35.json');
  t.equal((await send({ port, ca, path: '/readyz' })).status, 200);
  t.match(log(), /"source":"kubeconfig-env"/);
  t.ok(fake.seen.some((r) => r.route === 'list' && r.authorization === 'Bearer test-token'));
  const reply = await sendReview({ port, ca }, reviewFor(redisPod(), { namespace: 'default' }));
  const response = (JSON.parse(reply.text) as { response: { allowed: boolean; patch: string } })
    .response;
  t.equal(response.allowed, true);
  const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as { path: string }[];
  t.ok(
    patch.some((op) => op.path.startsWith('/spec/initContainers')),
    'native sidecars',
  );
});

t.test(
  "cluster mode: a policy that breaks the namespace's Pod Security level is denied by name",
  async (t) => {
    const { port, ca } = await startServe(t, 'version-kind-1.35.json');
    const pod = {
      ...redisPod(),
      metadata: { name: 'dbg', annotations: { 'tandem.dev/inject': 'debug-tools' } },
    };
    const reply = await sendReview({ port, ca }, reviewFor(pod, { namespace: 'shop' }));
    const response = (
      JSON.parse(reply.text) as { response: { allowed: boolean; status: { message: string } } }
    ).response;
    t.equal(response.allowed, false);
    t.match(
      response.status.message,
      /policy "debug-tools" would break namespace "shop"'s Pod Security level "restricted"/,
    );
    t.match(response.status.message, /privileged/);
  },
);

t.test('cluster mode: a 1.28 cluster gets classic sidecars, and the log says why', async (t) => {
  const { port, ca, log } = await startServe(t, 'version-eks-1.28.json');
  t.match(log(), /native sidecars need 1\.29 or later/);
  const reply = await sendReview({ port, ca }, reviewFor(redisPod(), { namespace: 'default' }));
  const response = (JSON.parse(reply.text) as { response: { patch: string } }).response;
  const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as { path: string }[];
  t.ok(
    patch.some((op) => op.path === '/spec/containers/-'),
    'the proxy is a classic container',
  );
  t.notOk(
    patch.some(
      (op) =>
        op.path.startsWith('/spec/initContainers') &&
        JSON.stringify(op).includes('"restartPolicy":"Always"'),
    ),
    'no native sidecar',
  );
});

import jsonpatch, { type Operation } from 'fast-json-patch';
import t, { type Test } from 'tap';
import { startClusterServe } from '../fixtures/kube/cluster-serve.ts';
import { send, sendReview } from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

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

/** Sidecars is where the patched pod runs each container: as a native sidecar or a classic one. */
interface Sidecars {
  readonly containers: string[];
  readonly initContainers: { name: string; restartPolicy: string | undefined }[];
}

/** injected applies a review's patch to `pod` and lists the containers of the result. */
function injected(reviewText: string, pod: object): Sidecars {
  const { response } = JSON.parse(reviewText) as { response: { patch: string } };
  const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as Operation[];
  const result = jsonpatch.applyPatch(structuredClone(pod), patch, true, false).newDocument as {
    spec: {
      containers: { name: string }[];
      initContainers?: { name: string; restartPolicy?: string }[];
    };
  };
  return {
    containers: result.spec.containers.map((c) => c.name),
    initContainers: (result.spec.initContainers ?? []).map((c) => ({
      name: c.name,
      restartPolicy: c.restartPolicy,
    })),
  };
}

function startServe(t: Test, versionFile: string) {
  return startClusterServe(t, { versionFile, policies: { 'debug-tools.yaml': PRIVILEGED_POLICY } });
}

t.test('cluster mode: ready after the namespace list, native sidecars on 1.35', async (t) => {
  const { port, ca, fake, log } = await startServe(t, 'version-kind-1.35.json');
  t.equal((await send({ port, ca, path: '/readyz' })).status, 200);
  t.match(log(), /"source":"kubeconfig-env"/);
  t.ok(fake.seen.some((r) => r.route === 'list' && r.authorization === 'Bearer test-token'));
  const reply = await sendReview({ port, ca }, reviewFor(redisPod(), { namespace: 'default' }));
  const response = (JSON.parse(reply.text) as { response: { allowed: boolean } }).response;
  t.equal(response.allowed, true);
  // Native: the proxy is an init container that keeps running (restartPolicy: Always),
  // ahead of the app, and the pod's containers stay the author's.
  const pod = injected(reply.text, redisPod());
  t.strictSame(pod.containers, ['cart'], 'no classic container added');
  t.strictSame(
    pod.initContainers.find((c) => c.name === 'tandem-nutcracker'),
    { name: 'tandem-nutcracker', restartPolicy: 'Always' },
    'the proxy is a native sidecar',
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
  const pod = injected(reply.text, redisPod());
  t.strictSame(
    pod.containers,
    ['cart', 'tandem-nutcracker', 'tandem-nutcracker-gate'],
    'the proxy and its gate are classic containers, after the app',
  );
  t.strictSame(
    pod.initContainers.filter((c) => c.restartPolicy === 'Always'),
    [],
    'no native sidecar',
  );
});

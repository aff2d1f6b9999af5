import type { V1Pod } from '@kubernetes/client-node';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { Pod } from 'kubernetes-models/v1';
import t from 'tap';
import type { AdmissionVersion } from '../../src/admission/review.ts';
import { staticNamespaces } from '../../src/kube/static-namespaces.ts';
import { sendReview, startHarness, type Reply } from '../fixtures/reviews/harness.ts';
import { exampleReview, plainPod, redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

interface ResponseBody {
  uid: string;
  allowed: boolean;
  patchType?: string;
  patch?: string;
  status?: { code: number; message: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

function responseOf(reply: Reply): ResponseBody {
  return reply.json()['response'] as ResponseBody;
}

function decodePatch(response: ResponseBody): Operation[] {
  return JSON.parse(Buffer.from(response.patch ?? '', 'base64').toString('utf8')) as Operation[];
}

/** applyAndValidate applies the patch (fast-json-patch validating each op) and checks the Pod schema. */
function applyAndValidate(object: unknown, patch: Operation[]): V1Pod {
  const copy = structuredClone(object);
  const result = jsonpatch.applyPatch(copy, patch, true, false).newDocument as V1Pod;
  new Pod(result as unknown as ConstructorParameters<typeof Pod>[0]).validate();
  return result;
}

t.test('answers a pod CREATE in the version it was asked in, echoing the uid', async (t) => {
  const harness = await startHarness(t);
  for (const apiVersion of ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const) {
    t.test(apiVersion, async (t) => {
      const review = reviewFor(redisPod(), { apiVersion: apiVersion satisfies AdmissionVersion });
      const reply = await sendReview(harness, review);
      t.equal(reply.status, 200);
      const body = reply.json();
      t.equal(body['apiVersion'], apiVersion);
      t.equal(body['kind'], 'AdmissionReview');
      const response = responseOf(reply);
      t.equal(response.uid, (review['request'] as { uid: string }).uid);
      t.equal(response.allowed, true);
      t.equal(response.patchType, 'JSONPatch');
      t.strictSame(response.auditAnnotations, { 'injected-policies': 'redis-ambassador' });
      const pod = applyAndValidate(
        (review['request'] as { object: unknown }).object,
        decodePatch(response),
      );
      const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map(
        (c) => c.name,
      );
      t.ok(names.includes('tandem-nutcracker'), 'the ambassador was added');
      t.ok(names.includes('cart'), "the author's container is still there");
    });
  }
});

t.test('the shipped example review is injected and the result is a valid pod', async (t) => {
  const harness = await startHarness(t);
  const review = exampleReview();
  const reply = await sendReview(harness, review);
  const response = responseOf(reply);
  t.equal(response.uid, '705ab4f5-6393-11e8-b7cc-42010a800002');
  t.equal(response.allowed, true);
  const pod = applyAndValidate(
    (review['request'] as { object: unknown }).object,
    decodePatch(response),
  );
  t.match(pod.metadata?.annotations?.['tandem.dev/status'], /redis-ambassador/);
});

t.test('a pod that asks for nothing is allowed with no patch and no patchType', async (t) => {
  const harness = await startHarness(t);
  const response = responseOf(await sendReview(harness, reviewFor(plainPod())));
  t.strictSame(Object.keys(response).sort(), ['allowed', 'uid']);
  t.equal(response.allowed, true);
});

t.test('only a Pod CREATE is mutated; anything else is allowed with no patch', async (t) => {
  const harness = await startHarness(t);
  const cases = {
    update: { operation: 'UPDATE' },
    delete: { operation: 'DELETE' },
    subresource: { subResource: 'ephemeralcontainers' },
    'another kind': { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } },
    'a Pod kind in another group': { kind: { group: 'example.com', version: 'v1', kind: 'Pod' } },
  };
  for (const [name, options] of Object.entries(cases)) {
    const response = responseOf(await sendReview(harness, reviewFor(redisPod(), options)));
    t.strictSame(response.allowed, true, name);
    t.equal(response.patch, undefined, `${name}: no patch`);
    t.equal(response.patchType, undefined, `${name}: no patchType`);
  }
});

t.test('a dry-run review gets the same answer as a real one', async (t) => {
  const harness = await startHarness(t);
  const real = responseOf(await sendReview(harness, reviewFor(redisPod(), { uid: 'a' })));
  const dry = responseOf(
    await sendReview(harness, reviewFor(redisPod(), { uid: 'a', dryRun: true })),
  );
  t.strictSame(dry, real);
  const lines = harness.logs().filter((line) => line['msg'] === 'admission');
  t.strictSame(
    lines.map((line) => line['dryRun']),
    [false, true],
  );
});

t.test('a denial is allowed:false with code 403 and the engine reason as message', async (t) => {
  const harness = await startHarness(t);
  const pod = redisPod();
  const annotations = (pod['metadata'] as { annotations: Record<string, string> }).annotations;
  annotations['tandem.dev/inject'] = 'no-such-policy';
  const response = responseOf(await sendReview(harness, reviewFor(pod)));
  t.equal(response.allowed, false);
  t.equal(response.status?.code, 403);
  t.match(response.status?.message, /tandem\.dev\/inject/);
  t.match(response.status?.message, /no-such-policy/);
  t.equal(response.patch, undefined);
});

/** SHOP_ONLY is a policy only namespaces labelled team=shop may use; it names its namespace. */
const SHOP_ONLY = `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: shop-only}
spec:
  pattern: sidecar
  namespaceSelector: {matchLabels: {team: shop}}
  containers:
    - name: shop-agent
      image: registry.example/agent:1.0
      env:
        - {name: POD_NAMESPACE, value: '{{ pod.namespace }}'}
`;

t.test('the namespace comes from request.namespace, not the pod', async (t) => {
  // The pod's own metadata.namespace says otherwise each time: only request.namespace
  // decides the namespaceSelector, the template's pod.namespace and the log line.
  const policies = t.testdir({ 'shop-only.yaml': SHOP_ONLY });
  const harness = await startHarness(t, {
    policies,
    namespaces: staticNamespaces({ shop: { team: 'shop' }, batch: { team: 'batch' } }),
  });
  const pod = (namespace: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'cart', namespace, annotations: { 'tandem.dev/inject': 'shop-only' } },
    spec: { containers: [{ name: 'cart', image: 'registry.example/cart:1' }] },
  });

  const admitted = responseOf(
    await sendReview(harness, reviewFor(pod('batch'), { namespace: 'shop' })),
  );
  t.equal(admitted.allowed, true);
  const injected = applyAndValidate(pod('batch'), decodePatch(admitted));
  const agent = injected.spec?.initContainers?.find((c) => c.name === 'shop-agent');
  t.strictSame(agent?.env, [{ name: 'POD_NAMESPACE', value: 'shop' }]);
  const line = harness.logs().find((l) => l['msg'] === 'admission');
  t.equal(line?.['namespace'], 'shop');

  const refused = responseOf(
    await sendReview(harness, reviewFor(pod('shop'), { namespace: 'batch' })),
  );
  t.equal(refused.allowed, false);
  t.match(refused.status?.message, /which namespace "batch" may not use/);
});

t.test(
  'one log line per admission, with uid, namespace, pod, policies, result, duration',
  async (t) => {
    const harness = await startHarness(t);
    const before = harness.logs().length;
    await sendReview(harness, reviewFor(redisPod(), { uid: 'log-1' }));
    const lines = harness.logs().slice(before);
    t.equal(lines.length, 1, 'exactly one line: fastify request logging is off');
    t.match(lines[0], {
      msg: 'admission',
      uid: 'log-1',
      namespace: 'shop',
      pod: 'cart-7c9d8f6b5-',
      policies: ['redis-ambassador'],
      result: 'patched',
      dryRun: false,
      durationMs: Number,
    });
  },
);

import { Agent } from 'node:https';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/server/app.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { staticNamespaces } from '../../src/kube/static-namespaces.ts';
import {
  makePair,
  send,
  sendReview,
  startHarness,
  type Harness,
  type Reply,
} from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

async function normalReviewWorks(
  t: Test,
  target: { port: number; ca: string[]; agent?: Agent },
): Promise<void> {
  const reply = await sendReview(target, reviewFor(redisPod(), { uid: 'after' }));
  t.equal(reply.status, 200, 'the next review is answered normally');
  t.match(reply.json(), { response: { uid: 'after', allowed: true, patchType: 'JSONPatch' } });
}

function isJsonError(t: Test, reply: Reply, status: number): void {
  t.equal(reply.status, status);
  t.match(reply.headers['content-type'], /^application\/json/);
  t.match(reply.json(), { code: String, message: String });
}

t.test('bad requests get an HTTP error with a JSON body, and the next review works', async (t) => {
  const harness: Harness = await startHarness(t, { bodyLimit: 64 * 1024 });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const target = { port: harness.port, ca: harness.ca, agent };

  const cases: {
    name: string;
    status: number;
    body: string | Buffer;
    headers?: Record<string, string>;
  }[] = [
    { name: 'a body that is not JSON gets 400', status: 400, body: '{"apiVersion": ' },
    { name: 'an empty JSON body gets 400', status: 400, body: '' },
    { name: 'JSON that is not an object gets 400', status: 400, body: '[1,2]' },
    {
      name: 'an object that is not an AdmissionReview gets 400',
      status: 400,
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod' }),
    },
    {
      name: 'an AdmissionReview of an unknown version gets 400',
      status: 400,
      body: JSON.stringify({ ...reviewFor(redisPod()), apiVersion: 'admission.k8s.io/v2' }),
    },
    {
      name: 'a review without request.uid gets 400',
      status: 400,
      body: JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { operation: 'CREATE' },
      }),
    },
    {
      name: 'a body over the limit gets 413',
      status: 413,
      body: JSON.stringify({ ...reviewFor(redisPod()), padding: 'x'.repeat(100 * 1024) }),
    },
    {
      name: 'a content type other than JSON gets 415',
      status: 415,
      body: JSON.stringify(reviewFor(redisPod())),
      headers: { 'content-type': 'text/plain' },
    },
    {
      name: 'a YAML content type gets 415',
      status: 415,
      body: 'apiVersion: admission.k8s.io/v1',
      headers: { 'content-type': 'application/yaml' },
    },
  ];
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const reply = await send({
        ...target,
        body: c.body,
        ...(c.headers ? { headers: c.headers } : {}),
      });
      isJsonError(t, reply, c.status);
      await normalReviewWorks(t, target);
    });
  }
});

t.test(
  'a review whose object is not a pod is answered errored (400 inside the review), not dropped',
  async (t) => {
    const harness = await startHarness(t);
    const objects = {
      'a string': 'not a pod',
      'labels that are not strings': { metadata: { labels: { a: 1 } }, spec: { containers: [] } },
      'no spec': { metadata: { name: 'x' } },
      'containers not a list': { metadata: {}, spec: { containers: {} } },
      'a null container': { metadata: {}, spec: { containers: [null] } },
      'initContainers a string': { metadata: {}, spec: { containers: [], initContainers: 'x' } },
    };
    for (const [name, object] of Object.entries(objects)) {
      const reply = await sendReview(harness, reviewFor(object, { uid: `bad-${name}` }));
      t.equal(reply.status, 200, `${name}: HTTP 200, the answer is in the review`);
      t.match(
        reply.json(),
        {
          response: {
            uid: `bad-${name}`,
            allowed: false,
            status: { code: 400, message: /request\.object/ },
          },
        },
        name,
      );
      await normalReviewWorks(t, harness);
    }
  },
);

t.test('a bug in the engine still answers a review with the uid and code 500', async (t) => {
  const pair = await makePair();
  const lines: string[] = [];
  const logger = pino({}, { write: (line: string) => void lines.push(line) });
  let broken = true;
  const { loadPolicies } = await import('../../src/policy/load.ts');
  const { REPO_POLICIES } = await import('../fixtures/reviews/harness.ts');
  const policies = await loadPolicies(REPO_POLICIES);
  const app = buildApp({
    getPolicies: () => {
      if (broken) throw new Error('boom');
      return policies;
    },
    namespaces: staticNamespaces({}),
    sidecars: { sidecarMode: 'native', nativeSidecarsSupported: true },
    logger,
    metrics: createMetrics(new Registry(), { version: 'test' }),
    readiness: () => ({ ready: true, checks: {} }),
    draining: () => false,
    tls: pair,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const target = { port, ca: [pair.cert] };

  const reply = await sendReview(target, reviewFor(redisPod(), { uid: 'bug-1' }));
  t.equal(reply.status, 200);
  t.match(reply.json(), {
    apiVersion: 'admission.k8s.io/v1',
    response: { uid: 'bug-1', allowed: false, status: { code: 500 } },
  });
  const logged = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l['uid'] === 'bug-1');
  t.match(
    logged,
    { result: 'errored', err: { message: 'boom' } },
    'the bug is logged with its error',
  );
  broken = false;
  await normalReviewWorks(t, target);
});

t.test(
  'a pod with a "__proto__" key in a free-form map is still answered as a review',
  async (t) => {
    const harness = await startHarness(t);
    const pod = redisPod();
    const text = JSON.stringify(reviewFor(pod, { uid: 'proto' })).replace(
      '"metadata":{',
      '"metadata":{"labels":{"__proto__":"x","app":"cart"},',
    );
    const reply = await send({
      port: harness.port,
      ca: harness.ca,
      method: 'POST',
      path: '/mutate',
      body: text,
      headers: { 'content-type': 'application/json' },
    });
    t.equal(reply.status, 200);
    t.match(JSON.parse(reply.text), { response: { uid: 'proto', allowed: true } });
  },
);

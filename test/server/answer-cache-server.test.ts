import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import t from 'tap';
import { admitPod, type AdmitEnv } from '../../src/admission/pod.ts';
import { encodeReviewParts, joinReview } from '../../src/admission/response.ts';
import { parseReview } from '../../src/admission/review.ts';
import { staticNamespaces } from '../../src/kube/static-namespaces.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { arbitraryPod } from '../fixtures/arbitrary-pod.ts';
import {
  send,
  sendReview,
  startHarness,
  type Harness,
  type Teardown,
} from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';

// The answer cache through the real server over TLS: a review that differs from an
// answered one only in its uid is answered from the cache, with exactly the answer the
// engine gives it; anything else that differs, or a change to what the server holds,
// goes to the engine.

t.setTimeout(300_000);

/** engineAnswer is the answer text the engine gives `review`, computed in this process. */
function engineAnswer(review: unknown, env: AdmitEnv): string {
  const parsed = parseReview(review);
  if (!parsed.ok) throw new Error(parsed.message);
  const { apiVersion, request } = parsed.review;
  return joinReview(encodeReviewParts(apiVersion, admitPod(request, env).answer), request.uid);
}

function logLine(harness: Harness, uid: string): Record<string, unknown> | undefined {
  return harness.logs().find((line) => line['msg'] === 'admission' && line['uid'] === uid);
}

async function testPoliciesDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-cache-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'test.yaml'), TEST_POLICIES);
  return dir;
}

t.test(
  "for any pod: a second review with another uid gets, from the cache, the engine's answer",
  async (t) => {
    const harness = await startHarness(t, { policies: await testPoliciesDir(t) });
    const policies = await loadPolicies(harness.policiesDir);
    const env: AdmitEnv = {
      getPolicies: () => policies,
      namespaces: staticNamespaces({}),
      sidecars: { sidecarMode: 'native', nativeSidecarsSupported: true },
    };
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => agent.destroy());
    const target = { port: harness.port, ca: harness.ca, agent };
    const pods = arbitraryPod({
      policies: ['shipper', 'proxy'],
      annotations: { 'shipper.tandem.dev/dest': 'logs.example:24224' },
    });
    let hits = 0;
    await fc.assert(
      fc.asyncProperty(pods, async (pod) => {
        const uid = randomUUID();
        const first = reviewFor(pod, { uid: randomUUID() });
        const second = reviewFor(pod, { uid });
        // The cache keeps an answer the second time its review comes; the third is a hit.
        await sendReview(target, first);
        await sendReview(target, reviewFor(pod, { uid: randomUUID() }));
        const reply = await sendReview(target, second);
        const expected = engineAnswer(second, env);
        if (reply.text !== expected) {
          throw new Error(`cached answer differs:\n${reply.text}\nengine:\n${expected}`);
        }
        const line = logLine(harness, uid);
        if (line?.['result'] !== 'errored' && line?.['cached'] !== true) {
          throw new Error(
            `the second review was not answered from the cache: ${JSON.stringify(line)}`,
          );
        }
        hits += 1;
      }),
      { numRuns: 60 },
    );
    t.equal(hits, 60, 'every second review was answered from the cache, as the engine answers it');
  },
);

t.test(
  'a review that differs in anything but its uid is not answered from the cache',
  async (t) => {
    const harness = await startHarness(t);
    const answered = async (review: Record<string, unknown>) => {
      const uid = randomUUID();
      const reply = await sendReview(harness, {
        ...review,
        request: { ...(review['request'] as object), uid },
      });
      t.equal(reply.status, 200);
      return { answer: reply.json(), line: logLine(harness, uid) };
    };
    const review = reviewFor(redisPod());
    t.equal((await answered(review)).line?.['cached'], false, 'the first review runs the engine');
    t.equal((await answered(review)).line?.['cached'], false, 'and the second, which is kept');
    t.equal((await answered(review)).line?.['cached'], true, 'the same review again is a hit');
    const dryRun = reviewFor(redisPod(), { dryRun: true });
    const dry = await answered(dryRun);
    t.strictSame(
      [dry.line?.['cached'], dry.line?.['dryRun']],
      [false, true],
      'a dry run is another review',
    );
    const elsewhere = reviewFor(redisPod(), { namespace: 'billing' });
    const other = await answered(elsewhere);
    t.strictSame([other.line?.['cached'], other.line?.['namespace']], [false, 'billing']);
    const metrics = (await send({ port: harness.port, ca: harness.ca, path: '/metrics' })).text;
    t.match(
      metrics,
      /tandem_admissions_total\{result="patched",dry_run="false"\} 4\n/,
      'hits are counted',
    );
    t.match(metrics, /tandem_injections_total\{policy="redis-ambassador",dry_run="false"\} 4\n/);
    t.match(metrics, /tandem_answer_cache_hits_total 1\n/, 'and the hit itself');
  },
);

t.test(
  'a body that repeats the uid in its request is answered with the uid JSON gives it',
  async (t) => {
    const harness = await startHarness(t);
    // JSON.parse keeps the last of two equal keys; the layout the cache keys on names the first.
    const body = (first: string) =>
      JSON.stringify(reviewFor(redisPod(), { uid: first })).replace(
        '"oldObject":null',
        '"oldObject":null,"uid":"the-last-uid"',
      );
    for (const first of ['first-uid', 'another-first-uid']) {
      const reply = await send({ port: harness.port, ca: harness.ca, body: body(first) });
      t.equal((reply.json()['response'] as { uid: string }).uid, 'the-last-uid');
    }
    const lines = harness.logs().filter((line) => line['uid'] === 'the-last-uid');
    t.strictSame(
      lines.map((line) => line['cached']),
      [false, false],
      'neither is answered from the cache, nor kept in it',
    );
  },
);

t.test('a policy reload is seen by the next review, even one the cache has answered', async (t) => {
  const harness = await startHarness(t);
  const ask = async () => {
    const uid = randomUUID();
    const reply = await sendReview(harness, reviewFor(redisPod(), { uid }));
    return {
      allowed: (reply.json()['response'] as { allowed: boolean }).allowed,
      line: logLine(harness, uid),
    };
  };
  await ask();
  await ask();
  t.strictSame((await ask()).line?.['cached'], true, 'answered from the cache before the reload');
  await rm(join(harness.policiesDir, 'redis-ambassador.yaml'));
  let answer = await ask();
  for (let tries = 0; tries < 100 && answer.allowed; tries += 1) {
    await sleep(50);
    answer = await ask();
  }
  t.strictSame(
    [answer.allowed, answer.line?.['cached'], answer.line?.['reason']],
    [false, false, 'UnknownPolicy'],
    'the pod now asks for a policy that is gone, and is refused by the engine',
  );
});

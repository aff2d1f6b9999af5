/**
 * Issue 9, item 1, over the wire: a review made of hostile annotations gets its denial
 * from the caps, and the webhook answers the next review as usual.
 */
import t from 'tap';
import type { JsonObject } from '../../src/json.ts';
import { sendReview, startHarness, type Reply } from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

function responseOf(reply: Reply): {
  allowed: boolean;
  status?: { code: number; message: string };
} {
  return reply.json()['response'] as {
    allowed: boolean;
    status?: { code: number; message: string };
  };
}

function withAnnotations(extra: Record<string, string>): JsonObject {
  const pod = redisPod();
  const metadata = pod['metadata'] as { annotations: Record<string, string> };
  metadata.annotations = { ...metadata.annotations, ...extra };
  return pod;
}

t.test(
  'a review asking for 60,000 policies is denied by the cap, and the next review is served',
  async (t) => {
    const harness = await startHarness(t);
    const names = Array.from({ length: 60_000 }, (_, i) => i.toString(36)).join(',');
    const hostile = await sendReview(
      harness,
      reviewFor(withAnnotations({ 'tandem.dev/inject': names })),
    );
    t.equal(hostile.status, 200);
    t.strictSame(responseOf(hostile).status, {
      code: 403,
      reason: 'Forbidden',
      message:
        'annotation tandem.dev/inject lists more than 32 policies; at most 32 may be requested',
      details: { causes: [{ reason: 'TooManyPolicies' }] },
    });
    const normal = await sendReview(harness, reviewFor(redisPod()));
    t.equal(responseOf(normal).allowed, true);
  },
);

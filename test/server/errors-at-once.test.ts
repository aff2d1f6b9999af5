import t from 'tap';
import { sendReview, startHarness } from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

t.test(
  'a webhook denial lists every bad param of the pod in its one message, each by annotation',
  async (t) => {
    const harness = await startHarness(t);
    const pod = redisPod();
    const annotations = (pod['metadata'] as { annotations: Record<string, string> }).annotations;
    annotations['redis-ambassador.tandem.dev/listenPort'] = 'six';
    annotations['redis-ambassador.tandem.dev/statsPort'] = '2222222';
    const reply = await sendReview(harness, reviewFor(pod));
    const response = reply.json()['response'] as {
      allowed: boolean;
      status?: { code: number; message: string };
    };
    t.strictSame([response.allowed, response.status?.code], [false, 403]);
    t.match(
      response.status?.message,
      /^2 problems: \(1\) annotation redis-ambassador\.tandem\.dev\/listenPort has value "six", .*; \(2\) annotation redis-ambassador\.tandem\.dev\/statsPort has value "2222222", /,
    );
  },
);

/**
 * Issue 15 item 5 and issue 13 item 4: a denial carries a stable code, which the answer,
 * the log line and the `tandem_denials_total` metric all use; an HTTP 400 is logged.
 */
import t from 'tap';
import { send, sendReview, startHarness } from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

function podAsking(annotations: Record<string, string>): Record<string, unknown> {
  const pod = redisPod();
  Object.assign(
    (pod['metadata'] as { annotations: Record<string, string> }).annotations,
    annotations,
  );
  return pod;
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

t.test(
  'a denial answers its code in status.details, logs code, policy and message, and is counted by policy and reason',
  async (t) => {
    const harness = await startHarness(t);
    const badParam = podAsking({ 'redis-ambassador.tandem.dev/listenPort': 'x' });
    const reply = await sendReview(harness, reviewFor(badParam, { uid: 'u-param' }));
    const response = reply.json()['response'] as { status: Record<string, unknown> };
    t.strictSame(response.status['details'], { causes: [{ reason: 'ParamInvalid' }] });
    t.strictSame(response.status['reason'], 'Forbidden', 'still Forbidden for IsForbidden');

    const unknown = podAsking({ 'tandem.dev/inject': 'no-such-policy' });
    await sendReview(harness, reviewFor(unknown, { uid: 'u-unknown', dryRun: true }));

    const lines = harness.logs().filter((line) => line['msg'] === 'admission');
    const param = lines.find((line) => line['uid'] === 'u-param');
    t.strictSame(
      [param?.['result'], param?.['reason'], param?.['policy']],
      ['denied', 'ParamInvalid', 'redis-ambassador'],
    );
    t.match(param?.['message'], /^annotation redis-ambassador\.tandem\.dev\/listenPort has value/);
    const asked = lines.find((line) => line['uid'] === 'u-unknown');
    t.strictSame([asked?.['reason'], 'policy' in (asked ?? {})], ['UnknownPolicy', false]);

    const metrics = (await send({ port: harness.port, ca: harness.ca, path: '/metrics' })).text;
    t.strictSame(
      sample(
        metrics,
        'tandem_denials_total{policy="redis-ambassador",reason="ParamInvalid",dry_run="false"}',
      ),
      1,
    );
    t.strictSame(
      sample(metrics, 'tandem_denials_total{policy="",reason="UnknownPolicy",dry_run="true"}'),
      1,
      "a name the pod asked for that no policy has is not a label: the pod's text would be",
    );
    t.notMatch(metrics, /no-such-policy/);
  },
);

t.test('an HTTP 400 answer is logged with its code and message', async (t) => {
  const harness = await startHarness(t);
  const notJson = await send({ port: harness.port, ca: harness.ca, body: '{"apiVersion": ' });
  t.strictSame(notJson.status, 400);
  const noUid = { ...reviewFor(redisPod()), request: { kind: { kind: 'Pod' } } };
  const notReview = await send({ port: harness.port, ca: harness.ca, body: JSON.stringify(noUid) });
  t.strictSame(notReview.status, 400);
  const rejected = harness.logs().filter((line) => line['msg'] === 'request rejected');
  t.strictSame(
    rejected.map((line) => [line['level'], line['status'], line['url']]),
    [
      [40, 400, '/mutate'],
      [40, 400, '/mutate'],
    ],
  );
  t.strictSame(rejected[1]?.['code'], 'TANDEM_ERR_INPUT');
  t.match(rejected[0]?.['message'], /JSON/);
  t.match(rejected[1]?.['message'], /uid/);
});

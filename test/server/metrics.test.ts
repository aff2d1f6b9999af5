import { readFile } from 'node:fs/promises';
import t from 'tap';
import { send, sendReview, startHarness } from '../fixtures/reviews/harness.ts';
import { plainPod, redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

/** parseMetrics reads Prometheus text into `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

t.test(
  '/metrics counts admissions by result and dry run, injections by policy, latency and rejects',
  async (t) => {
    const harness = await startHarness(t);
    const denyPod = redisPod();
    (denyPod['metadata'] as { annotations: Record<string, string> }).annotations[
      'tandem.dev/inject'
    ] = 'no-such-policy';
    await sendReview(harness, reviewFor(redisPod()));
    await sendReview(harness, reviewFor(redisPod()));
    await sendReview(harness, reviewFor(redisPod(), { dryRun: true }));
    await sendReview(harness, reviewFor(plainPod()));
    await sendReview(harness, reviewFor(denyPod));
    await sendReview(harness, reviewFor('not a pod'));
    await send({ port: harness.port, ca: harness.ca, body: 'not json' });

    const reply = await send({ port: harness.port, ca: harness.ca, path: '/metrics' });
    t.equal(reply.status, 200);
    t.match(reply.headers['content-type'], /^text\/plain/);
    const m = parseMetrics(reply.text);
    t.equal(m.get('tandem_admissions_total{result="patched",dry_run="false"}'), 2);
    t.equal(m.get('tandem_admissions_total{result="patched",dry_run="true"}'), 1);
    t.equal(m.get('tandem_admissions_total{result="allowed",dry_run="false"}'), 1);
    t.equal(m.get('tandem_admissions_total{result="denied",dry_run="false"}'), 1);
    t.equal(m.get('tandem_admissions_total{result="errored",dry_run="false"}'), 1);
    t.equal(m.get('tandem_injections_total{policy="redis-ambassador",dry_run="false"}'), 2);
    t.equal(m.get('tandem_injections_total{policy="redis-ambassador",dry_run="true"}'), 1);
    t.equal(m.get('tandem_admission_duration_seconds_count{result="patched"}'), 3);
    t.equal(m.get('tandem_rejected_requests_total{code="400"}'), 1);
    t.equal(m.get('tandem_policies_loaded'), 3);
    t.equal(m.get('tandem_policy_reloads_total{outcome="success"}'), 0, 'start-up is not a reload');
    t.equal(m.get('tandem_policy_reloads_total{outcome="failure"}'), 0);
    t.ok(m.has('process_cpu_user_seconds_total'), 'default process metrics are there');
  },
);

t.test('/healthz is alive and /readyz is ready once started', async (t) => {
  const harness = await startHarness(t);
  const health = await send({ port: harness.port, ca: harness.ca, path: '/healthz' });
  t.equal(health.status, 200);
  const ready = await send({ port: harness.port, ca: harness.ca, path: '/readyz' });
  t.equal(ready.status, 200);
  t.match(ready.json(), {
    ready: true,
    checks: { policies: true, tls: true, namespaces: true, notDraining: true },
  });
});

t.test('/readyz is not ready while the namespace directory has not synced', async (t) => {
  const harness = await startHarness(t, { namespaces: { lookup: () => undefined, synced: false } });
  const ready = await send({ port: harness.port, ca: harness.ca, path: '/readyz' });
  t.equal(ready.status, 503);
  t.match(ready.json(), { ready: false, checks: { namespaces: false } });
});

t.test(
  '/metrics has tandem_build_info, the certificate notAfter and when the served policies were loaded',
  async (t) => {
    const before = Date.now() / 1000;
    const harness = await startHarness(t);
    const reply = await send({ port: harness.port, ca: harness.ca, path: '/metrics' });
    const m = parseMetrics(reply.text);
    const version = (
      JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      }
    ).version;
    t.strictSame(
      m.get(`tandem_build_info{version="${version}",node_version="${process.versions.node}"}`),
      1,
    );
    const notAfter = m.get('tandem_certificate_not_after_seconds') ?? 0;
    t.ok(notAfter > before, `the certificate's notAfter (${notAfter}) is in the future`);
    const loaded = m.get('tandem_policy_last_reload_success_timestamp_seconds') ?? 0;
    t.ok(loaded >= Math.floor(before) && loaded <= Date.now() / 1000 + 1, 'stamped at start-up');
  },
);

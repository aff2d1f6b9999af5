import { Agent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import {
  fingerprintOf,
  makePair,
  send,
  sendReview,
  startHarness,
  writeAtomicDir,
  type Harness,
} from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

/** waitForFingerprint polls with fresh connections until the served certificate is `want`. */
async function waitForFingerprint(harness: Harness, ca: string[], want: string): Promise<boolean> {
  for (let i = 0; i < 100; i += 1) {
    const reply = await send({ port: harness.port, ca, path: '/healthz' });
    if (reply.fingerprint === want) return true;
    await sleep(50);
  }
  return false;
}

t.test('a Secret symlink swap rotates the certificate with no failed request', async (t) => {
  const harness = await startHarness(t);
  const first = harness.ca[0] ?? '';
  const next = await makePair();
  const ca = [first, next.cert];
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  t.teardown(() => agent.destroy());

  let failures = 0;
  let answered = 0;
  let stop = false;
  const client = async (useAgent: boolean): Promise<void> => {
    // Bounded in count and in time: at most 400 requests or until stopped.
    for (let i = 0; i < 400 && !stop; i += 1) {
      try {
        const target = useAgent ? { port: harness.port, ca, agent } : { port: harness.port, ca };
        const reply = await sendReview(target, reviewFor(redisPod(), { uid: `r-${i}` }));
        if (reply.status === 200) answered += 1;
        else failures += 1;
      } catch {
        failures += 1;
      }
    }
  };
  const clients = [client(true), client(false), client(true)];
  await sleep(100);
  await writeAtomicDir(harness.tlsDir, { 'tls.crt': next.cert, 'tls.key': next.key });
  const rotated = await waitForFingerprint(harness, ca, fingerprintOf(next.cert));
  await sleep(100);
  stop = true;
  await Promise.all(clients);

  t.ok(rotated, 'new connections are served the new certificate');
  t.equal(failures, 0, 'no request failed during the rotation');
  t.ok(answered > 10, `reviews kept flowing (${answered})`);
  const metrics = await send({ port: harness.port, ca, path: '/metrics' });
  t.match(metrics.text, /tandem_tls_reloads_total\{outcome="success"\} 1\n/);
});

t.test('a key that does not match its certificate keeps the old pair serving', async (t) => {
  const harness = await startHarness(t);
  const first = harness.ca[0] ?? '';
  const a = await makePair();
  const b = await makePair();
  await writeAtomicDir(harness.tlsDir, { 'tls.crt': a.cert, 'tls.key': b.key });
  const ca = [first, a.cert, b.cert];
  // Wait until the reloader has seen and rejected the pair, bounded at 3 s.
  let rejected = false;
  for (let i = 0; i < 60 && !rejected; i += 1) {
    await sleep(50);
    const metrics = await send({ port: harness.port, ca, path: '/metrics' });
    rejected = /tandem_tls_reloads_total\{outcome="failure"\} 1\n/.test(metrics.text);
  }
  t.ok(rejected, 'the broken pair is counted as a failed reload');
  const reply = await sendReview({ port: harness.port, ca }, reviewFor(redisPod()));
  t.equal(reply.status, 200);
  t.equal(reply.fingerprint, fingerprintOf(first), 'the old certificate is still served');
  t.ok(
    harness
      .logs()
      .some((line) => line['msg'] === 'new certificate rejected; still serving the old one'),
    'the rejection is logged',
  );

  // Fixing the pair is picked up: the reloader tries again on the next change.
  await writeAtomicDir(harness.tlsDir, { 'tls.crt': a.cert, 'tls.key': a.key });
  t.ok(await waitForFingerprint(harness, ca, fingerprintOf(a.cert)), 'the fixed pair is served');
});

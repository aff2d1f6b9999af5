import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SecureContextOptions } from 'node:tls';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import {
  judgeReplacement,
  validityAt,
  type ValidityPeriod,
} from '../../src/server/cert-validity.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { readTlsPair, watchCertificates } from '../../src/server/tls.ts';
import {
  daysFromNow,
  fingerprintOf,
  makePairValidBetween,
  send,
  sendReview,
  startHarness,
  writeAtomicDir,
  type Harness,
} from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function period(fromDays: number, toDays: number): ValidityPeriod {
  return { notBefore: NOW + fromDays * DAY, notAfter: NOW + toDays * DAY };
}

async function metricsText(harness: Harness): Promise<string> {
  return (await send({ port: harness.port, ca: harness.ca, path: '/metrics', insecure: true }))
    .text;
}

async function waitFor(check: () => Promise<boolean>): Promise<boolean> {
  // Bounded: 100 tries, 50 ms apart.
  for (let i = 0; i < 100; i += 1) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

function tlsReloads(outcome: string, count: number): RegExp {
  return new RegExp(`tandem_tls_reloads_total\\{outcome="${outcome}"\\} ${count}\\n`);
}

t.test('validityAt places a moment in a period, both ends inclusive', (t) => {
  const p = period(-1, 1);
  t.strictSame(
    [NOW - 2 * DAY, p.notBefore, NOW, p.notAfter, NOW + 2 * DAY].map((at) => validityAt(p, at)),
    ['not yet valid', 'valid', 'valid', 'valid', 'expired'],
  );
  t.end();
});

t.test('judgeReplacement: a certificate whose period does not cover now is refused', (t) => {
  const cases: [string, ValidityPeriod, ValidityPeriod, boolean][] = [
    ['valid replaces valid', period(-10, 10), period(-1, 90), true],
    ['expired does not replace valid', period(-10, 10), period(-90, -1), false],
    ['not yet valid does not replace valid', period(-10, 10), period(1, 90), false],
    ['valid replaces expired', period(-90, -1), period(-1, 90), true],
    ['not yet valid replaces expired', period(-90, -1), period(1, 90), true],
    ['expired does not replace expired', period(-90, -2), period(-90, -1), false],
    ['valid replaces not yet valid', period(5, 90), period(-1, 90), true],
    ['sooner valid replaces not yet valid', period(5, 90), period(1, 90), true],
    ['later valid does not replace not yet valid', period(5, 90), period(6, 90), false],
    ['expired does not replace not yet valid', period(5, 90), period(-90, -1), false],
  ];
  for (const [name, serving, next, replace] of cases) {
    t.strictSame(judgeReplacement(serving, next, NOW).replace, replace, name);
  }
  t.strictSame(judgeReplacement(period(-10, 10), period(-90, -1), NOW), {
    replace: false,
    reason: `the new certificate expired at ${new Date(NOW - DAY).toISOString()}`,
  });
  t.strictSame(judgeReplacement(period(-10, 10), period(1, 90), NOW), {
    replace: false,
    reason: `the new certificate is not valid until ${new Date(NOW + DAY).toISOString()}`,
  });
  t.end();
});

t.test(
  'an expired or not-yet-valid pair is refused while the served one is valid, over real TLS',
  async (t) => {
    const harness = await startHarness(t);
    const first = harness.ca[0] ?? '';
    const expired = await makePairValidBetween({
      notBefore: daysFromNow(-30),
      notAfter: daysFromNow(-1),
    });
    const early = await makePairValidBetween({
      notBefore: daysFromNow(1),
      notAfter: daysFromNow(30),
    });
    // A client that trusts every pair: only the dates can make its handshake fail.
    const ca = [first, expired.cert, early.cert];

    await writeAtomicDir(harness.tlsDir, { 'tls.crt': expired.cert, 'tls.key': expired.key });
    t.ok(
      await waitFor(async () => tlsReloads('failure', 1).test(await metricsText(harness))),
      'the expired pair is counted as a failed reload',
    );
    let reply = await sendReview({ port: harness.port, ca }, reviewFor(redisPod()));
    t.strictSame(reply.status, 200, 'a verifying handshake still succeeds');
    t.strictSame(reply.fingerprint, fingerprintOf(first), 'the old certificate is still served');

    await writeAtomicDir(harness.tlsDir, { 'tls.crt': early.cert, 'tls.key': early.key });
    t.ok(
      await waitFor(async () => tlsReloads('failure', 2).test(await metricsText(harness))),
      'the not-yet-valid pair is counted as a failed reload',
    );
    reply = await sendReview({ port: harness.port, ca }, reviewFor(redisPod()));
    t.strictSame(reply.status, 200);
    t.strictSame(reply.fingerprint, fingerprintOf(first), 'the old certificate is still served');
    t.match(await metricsText(harness), tlsReloads('success', 0));

    const refusals = harness
      .logs()
      .filter((line) => line['msg'] === 'new certificate rejected; still serving the old one')
      .map((line) => [line['notAfter'], (line['err'] as { message: string }).message]);
    t.strictSame(
      refusals,
      [
        [
          isoDate(expired.cert, 'notAfter'),
          `the new certificate expired at ${isoDate(expired.cert, 'notAfter')}`,
        ],
        [
          isoDate(early.cert, 'notAfter'),
          `the new certificate is not valid until ${isoDate(early.cert, 'notBefore')}`,
        ],
      ],
      'each refusal is logged with the dates that made it',
    );
  },
);

t.test(
  'start-up with an expired pair serves it and warns, not ready until a valid pair arrives',
  async (t) => {
    const expired = await makePairValidBetween({
      notBefore: daysFromNow(-30),
      notAfter: daysFromNow(-1),
    });
    const harness = await startHarness(t, { pair: expired });
    // The kubelet's HTTPS probes do not verify the certificate, so neither does this one.
    const probe = await send({ port: harness.port, ca: [], path: '/readyz', insecure: true });
    t.strictSame(probe.status, 503);
    t.match(probe.json(), { ready: false, checks: { tls: false } });
    t.strictSame(
      harness
        .logs()
        .filter((line) => line['level'] === 40)
        .map((line) => [line['msg'], line['state'], line['notAfter']]),
      [
        [
          'serving a certificate that is not valid now; not ready until a valid one is loaded',
          'expired',
          isoDate(expired.cert, 'notAfter'),
        ],
      ],
      'the start-up warning names the state and the date',
    );
    await t.rejects(
      send({ port: harness.port, ca: [expired.cert], path: '/healthz' }),
      { code: 'CERT_HAS_EXPIRED' },
      'a verifying client refuses the expired certificate',
    );

    const renewed = await makePairValidBetween({
      notBefore: daysFromNow(-1),
      notAfter: daysFromNow(30),
    });
    await writeAtomicDir(harness.tlsDir, { 'tls.crt': renewed.cert, 'tls.key': renewed.key });
    const ca = [renewed.cert];
    t.ok(
      await waitFor(async () => {
        const reply = await send({ port: harness.port, ca, path: '/readyz' }).catch(
          () => undefined,
        );
        return reply?.status === 200;
      }),
      'the renewed pair is served and the webhook becomes ready',
    );
    const reply = await sendReview({ port: harness.port, ca }, reviewFor(redisPod()));
    t.strictSame(reply.status, 200);
    t.strictSame(reply.fingerprint, fingerprintOf(renewed.cert));
    t.match(await metricsText(harness), tlsReloads('success', 1));
  },
);

t.test('a renewal refused as not yet valid is served once its notBefore has passed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-tls-clock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  const serving = await makePairValidBetween({
    notBefore: daysFromNow(-10),
    notAfter: daysFromNow(10),
  });
  await writeAtomicDir(dir, { 'tls.crt': serving.cert, 'tls.key': serving.key });
  const initial = await readTlsPair(files);

  let clock = Date.now();
  const installed: SecureContextOptions[] = [];
  const metrics = createMetrics(new Registry(), { version: 'test' });
  const watch = watchCertificates({
    files,
    initial,
    server: { setSecureContext: (options) => void installed.push(options) },
    logger: pino({ level: 'silent' }),
    metrics,
    watch: { debounceMs: 10, pollMs: 30 },
    now: () => clock,
  });
  t.teardown(() => watch.close());

  // Issued by a clock a minute ahead of ours.
  const renewal = await makePairValidBetween({
    notBefore: new Date(clock + 60_000),
    notAfter: daysFromNow(30),
  });
  await writeAtomicDir(dir, { 'tls.crt': renewal.cert, 'tls.key': renewal.key });
  const counted = async (outcome: string, count: number): Promise<boolean> =>
    tlsReloads(outcome, count).test(await metrics.registry.metrics());
  t.ok(await waitFor(() => counted('failure', 1)), 'refused while not valid yet');
  await sleep(100);
  t.strictSame(installed.length, 0, 'nothing was installed');
  t.ok(watch.validNow(), 'the served certificate is still valid');

  clock += 61_000;
  t.ok(await waitFor(() => counted('success', 1)), 'served once valid, with no file change');
  t.strictSame(
    installed.map((options) => String(options.cert)),
    [renewal.cert],
  );
  t.ok(await counted('failure', 1), 'the refusal was counted once, not once per check');
});

/** isoDate is a PEM certificate's notBefore or notAfter as an ISO string. */
function isoDate(pem: string, end: 'notBefore' | 'notAfter'): string {
  const certificate = new X509Certificate(pem);
  return (end === 'notBefore' ? certificate.validFromDate : certificate.validToDate).toISOString();
}

t.test('once the served certificate has expired, a not-yet-valid renewal is served', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-tls-clock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  let clock = Date.now();
  const serving = await makePairValidBetween({
    notBefore: daysFromNow(-10),
    notAfter: new Date(clock + 60_000),
  });
  await writeAtomicDir(dir, { 'tls.crt': serving.cert, 'tls.key': serving.key });
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    {},
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const installed: SecureContextOptions[] = [];
  const watch = watchCertificates({
    files,
    initial: await readTlsPair(files),
    server: { setSecureContext: (options) => void installed.push(options) },
    logger,
    metrics: createMetrics(new Registry(), { version: 'test' }),
    watch: { debounceMs: 10, pollMs: 30 },
    now: () => clock,
  });
  t.teardown(() => watch.close());
  t.ok(watch.validNow());
  clock += 120_000;
  t.notOk(watch.validNow(), 'the served certificate has expired');

  const renewal = await makePairValidBetween({
    notBefore: new Date(clock + 3_600_000),
    notAfter: daysFromNow(30),
  });
  await writeAtomicDir(dir, { 'tls.crt': renewal.cert, 'tls.key': renewal.key });
  t.ok(
    await waitFor(() => Promise.resolve(installed.length === 1)),
    'the renewal is served though not valid yet',
  );
  t.strictSame(
    lines.filter((line) => line['level'] === 40).map((line) => [line['msg'], line['state']]),
    [['certificate reloaded, though not valid now: the old one was not either', 'not yet valid']],
  );
  t.notOk(watch.validNow(), 'not valid until its notBefore');
  clock += 3_600_001;
  t.ok(watch.validNow(), 'valid once its notBefore has passed, with no reload');
});

/**
 * The log-forwarder policy run for real: the exact command line tandem renders for a pod,
 * with the env the kubelet would set, run by Fluent Bit 4.2.0 and forwarding to a second
 * Fluent Bit acting as the aggregator on loopback. test/fixtures/real/fluent-bit.ts says
 * how the pod's volumes are laid out and what differs from a pod.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { createSelfSignedPair } from '../../src/server/self-signed.ts';
import {
  fluentBitMissing,
  freePort,
  injectLogForwarder,
  kubeletEnv,
  listening,
  logPod,
  makeSandbox,
  records,
  sandboxKind,
  startAggregator,
  startSidecar,
  waitFor,
  type PodFacts,
  type Printed,
  type Started,
} from '../fixtures/real/fluent-bit.ts';

// Each test is skipped, saying why, where the binary cannot run (not Linux x86-64, or
// libssl3 or libyaml-0-2 missing: .ci/run installs them).
const skip = fluentBitMissing() ?? false;
const kind = skip === false ? sandboxKind() : 'rewritten';
if (skip === false) t.comment(`the sidecar's volumes: ${kind}`);

const FACTS: PodFacts = {
  name: 'shop-web-7d9f8-abcde',
  namespace: 'shop',
  uid: '6f1c2b9e-4e0a-4c1b-9d62-3a5a8c1f0e11',
  nodeName: 'node-3',
};

const METADATA = {
  pod_name: FACTS.name,
  namespace_name: FACTS.namespace,
  pod_id: FACTS.uid,
  host: FACTS.nodeName,
};

/** expected is the record the aggregator should print for `line` of `container`'s app.log. */
function expected(container: string, line: string): Printed {
  return {
    file: `/var/log/tandem-app/${container}/app.log`,
    log: line,
    kubernetes: METADATA,
  };
}

/** stop sends SIGTERM, as the kubelet does, and waits for the exit code. */
async function stop(process: Started): Promise<number | string> {
  process.child.kill('SIGTERM');
  return process.exited;
}

function lines(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix} ${i + 1}`);
}

t.test(
  'each record reaches the aggregator with its pod, namespace, uid, node and container',
  { skip },
  async (t) => {
    const port = await freePort();
    const aggregator = startAggregator(port);
    t.teardown(() => aggregator.child.kill('SIGKILL'));
    await listening(aggregator);
    const { pod, sidecar } = await injectLogForwarder(
      logPod(FACTS, { host: '127.0.0.1', port: String(port) }),
    );
    // The app containers write into their own subdirectories of the volume.
    t.strictSame(
      pod.spec?.containers.map((c) => c.volumeMounts),
      [
        [{ name: 'tandem-app-logs', mountPath: '/var/log/app', subPath: 'web' }],
        [{ name: 'tandem-app-logs', mountPath: '/var/log/app', subPath: 'worker' }],
      ],
    );
    const sandbox = await makeSandbox(kind);
    for (const container of ['web', 'worker']) {
      await mkdir(sandbox.appDir(container), { mode: 0o777 });
      await writeFile(join(sandbox.appDir(container), 'app.log'), `${container} started\n`);
    }
    const env = kubeletEnv(sidecar.env ?? [], FACTS, {});
    const running = startSidecar(sidecar, env, sandbox);
    t.teardown(() => running.child.kill('SIGKILL'));
    const got = () => records(aggregator.stdout());
    const arrived = await waitFor(() => got().length >= 2, 60_000);
    if (!arrived) t.comment(running.stderr());
    t.ok(arrived, 'records arrived');
    const sorted = got().sort((a, b) => String(a['file']).localeCompare(String(b['file'])));
    t.strictSame(sorted, [expected('web', 'web started'), expected('worker', 'worker started')]);
    t.equal(await stop(running), 0, 'the sidecar exits 0 on SIGTERM');
  },
);

t.test('the last lines written before SIGTERM reach the aggregator', { skip }, async (t) => {
  const port = await freePort();
  const aggregator = startAggregator(port);
  t.teardown(() => aggregator.child.kill('SIGKILL'));
  await listening(aggregator);
  const { sidecar } = await injectLogForwarder(
    logPod(FACTS, { host: '127.0.0.1', port: String(port) }),
  );
  const sandbox = await makeSandbox(kind);
  const file = join(sandbox.appDir('web'), 'app.log');
  await mkdir(sandbox.appDir('web'), { mode: 0o777 });
  await writeFile(file, 'first\n');
  const running = startSidecar(sidecar, kubeletEnv(sidecar.env ?? [], FACTS, {}), sandbox);
  t.teardown(() => running.child.kill('SIGKILL'));
  const got = () => records(aggregator.stdout()).map((r) => r['log']);
  t.ok(await waitFor(() => got().length >= 1, 60_000), 'the first line arrived');
  // As an app that logs its last words while the pod stops: the sidecar is signalled
  // as soon as they are written (native sidecars stop after the app has exited).
  const last = lines('last words', 200);
  await appendFile(file, `${last.join('\n')}\n`);
  t.equal(await stop(running), 0, 'the sidecar exits 0 on SIGTERM');
  await waitFor(() => got().length >= 201, 10_000);
  t.strictSame(got(), ['first', ...last]);
});

t.test("output=stdout prints each record on the sidecar's own stdout", { skip }, async (t) => {
  const { sidecar } = await injectLogForwarder(
    logPod(FACTS, { host: 'unused.example', output: 'stdout' }),
  );
  t.notOk(sidecar.args?.includes('forward'), 'no forward output is rendered');
  const sandbox = await makeSandbox(kind);
  await mkdir(sandbox.appDir('web'), { mode: 0o777 });
  await writeFile(join(sandbox.appDir('web'), 'app.log'), 'to stdout 1\nto stdout 2\n');
  const running = startSidecar(sidecar, kubeletEnv(sidecar.env ?? [], FACTS, {}), sandbox);
  t.teardown(() => running.child.kill('SIGKILL'));
  await waitFor(() => records(running.stdout()).length >= 2, 60_000);
  t.equal(await stop(running), 0);
  t.strictSame(records(running.stdout()), [
    expected('web', 'to stdout 1'),
    expected('web', 'to stdout 2'),
  ]);
});

t.test(
  'tls=on forwards over TLS with the shared key from the named Secret',
  { skip },
  async (t) => {
    const pair = await createSelfSignedPair({});
    const ca = await readFile(pair.certFile, 'utf8');
    const port = await freePort();
    const sharedKey = 'a-shared-key-from-the-secret';
    const aggregator = startAggregator(port, { ...pair, sharedKey });
    t.teardown(() => aggregator.child.kill('SIGKILL'));
    await listening(aggregator);
    const { sidecar } = await injectLogForwarder(
      logPod(FACTS, { host: 'localhost', port: String(port), tls: 'on', secret: 'shop-logs' }),
    );
    const secrets = { 'shop-logs': { 'ca.crt': ca, shared_key: sharedKey } };
    const sandbox = await makeSandbox(kind, secrets['shop-logs']);
    await mkdir(sandbox.appDir('web'), { mode: 0o777 });
    await writeFile(join(sandbox.appDir('web'), 'app.log'), 'over tls\n');
    const env = kubeletEnv(sidecar.env ?? [], FACTS, secrets);
    t.equal(env['TANDEM_FORWARD_SHARED_KEY'], sharedKey, 'the shared key comes from the Secret');
    const running = startSidecar(sidecar, env, sandbox);
    t.teardown(() => running.child.kill('SIGKILL'));
    await waitFor(() => records(aggregator.stdout()).length >= 1, 60_000);
    t.strictSame(records(aggregator.stdout()), [expected('web', 'over tls')]);
    t.equal(await stop(running), 0);
  },
);

t.test('tls=on with the wrong shared key delivers nothing', { skip }, async (t) => {
  const pair = await createSelfSignedPair({});
  const ca = await readFile(pair.certFile, 'utf8');
  const port = await freePort();
  const aggregator = startAggregator(port, { ...pair, sharedKey: 'the-right-key' });
  t.teardown(() => aggregator.child.kill('SIGKILL'));
  await listening(aggregator);
  const { sidecar } = await injectLogForwarder(
    logPod(FACTS, { host: 'localhost', port: String(port), tls: 'on' }),
  );
  const secrets = { 'log-forwarder-tls': { 'ca.crt': ca, shared_key: 'a-wrong-key' } };
  const sandbox = await makeSandbox(kind, secrets['log-forwarder-tls']);
  await mkdir(sandbox.appDir('web'), { mode: 0o777 });
  await writeFile(join(sandbox.appDir('web'), 'app.log'), 'must not arrive\n');
  const running = startSidecar(sidecar, kubeletEnv(sidecar.env ?? [], FACTS, secrets), sandbox);
  t.teardown(() => running.child.kill('SIGKILL'));
  // The aggregator answers the wrong key's handshake with a refusal, and the sidecar
  // keeps the chunk to retry it: Fluent Bit logs "failed to flush chunk".
  const refused = await waitFor(() => running.stderr().includes('failed to flush chunk'), 30_000);
  t.ok(refused, 'the aggregator refuses the key');
  t.strictSame(records(aggregator.stdout()), []);
});

t.test('multiline=java joins a stack trace into one record', { skip }, async (t) => {
  const port = await freePort();
  const aggregator = startAggregator(port);
  t.teardown(() => aggregator.child.kill('SIGKILL'));
  await listening(aggregator);
  const { sidecar } = await injectLogForwarder(
    logPod(FACTS, { host: '127.0.0.1', port: String(port), multiline: 'java' }),
  );
  const trace = [
    'Exception in thread "main" java.lang.IllegalStateException: cart is empty',
    '\tat shop.Cart.checkout(Cart.java:42)',
    '\tat shop.Main.main(Main.java:7)',
  ];
  const sandbox = await makeSandbox(kind);
  await mkdir(sandbox.appDir('web'), { mode: 0o777 });
  await writeFile(
    join(sandbox.appDir('web'), 'app.log'),
    `${['before', ...trace, 'after'].join('\n')}\n`,
  );
  const running = startSidecar(sidecar, kubeletEnv(sidecar.env ?? [], FACTS, {}), sandbox);
  t.teardown(() => running.child.kill('SIGKILL'));
  await waitFor(() => records(aggregator.stdout()).length >= 2, 60_000);
  t.equal(await stop(running), 0);
  await waitFor(() => records(aggregator.stdout()).length >= 3, 10_000);
  t.strictSame(
    records(aggregator.stdout()).map((r) => r['log']),
    // With a multiline parser each record keeps its line's newline.
    ['before\n', `${trace.join('\n')}\n`, 'after\n'],
  );
});

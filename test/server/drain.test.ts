import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { builtCli } from '../fixtures/built-cli.ts';
import { send, sendReview } from '../fixtures/reviews/harness.ts';
import { startServeProcess, waitForText } from '../fixtures/serve-process.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

/** slowReview sends the headers and half a review now, and the rest when `finish` is called. */
function slowReview(port: number, ca: string[], uid: string) {
  const body = Buffer.from(JSON.stringify(reviewFor(redisPod(), { uid })));
  const half = Math.floor(body.length / 2);
  const request = httpsRequest({
    host: '127.0.0.1',
    servername: 'localhost',
    port,
    method: 'POST',
    path: '/mutate',
    ca,
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
  });
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
  });
  request.write(body.subarray(0, half));
  return { answer, finish: () => request.end(body.subarray(half)) };
}

t.test(
  'SIGTERM: not ready, Connection: close, idle connections kept through the grace period and closed after it, in-flight answered, exit 0',
  async (t) => {
    const runtime = await mkdtemp(join(tmpdir(), 'tandem-drain-'));
    t.teardown(() => rm(runtime, { recursive: true, force: true }));
    const serve = await startServeProcess(t, runtime, ['--grace-period', '1']);
    const { child, port, certFile, exited } = serve;
    const stdout = (): string => serve.stdout();
    t.match(
      serve.stderr(),
      /curl --cacert \S+ -H 'Content-Type: application\/json' --data @examples\/review\.json https:\/\/localhost:\d+\/mutate/,
    );
    const ca = [await readFile(certFile, 'utf8')];

    // An idle keep-alive connection, as the apiserver keeps one.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => agent.destroy());
    const first = await sendReview({ port, ca, agent }, reviewFor(redisPod(), { uid: 'before' }));
    t.equal(first.status, 200);
    const idleSockets = Object.values(agent.freeSockets).flat();
    t.equal(idleSockets.length, 1, 'one idle keep-alive connection before SIGTERM');
    let idleClosedAt = 0;
    const idleClosed = Promise.all(
      idleSockets.filter((socket) => socket !== undefined).map((socket) => once(socket, 'close')),
    ).then(() => {
      idleClosedAt = Date.now();
    });

    const slow = slowReview(port, ca, 'in-flight');
    await sleep(100);
    child.kill('SIGTERM');
    const sigtermAt = Date.now();
    await waitForText(stdout, /draining/, 5000);

    const ready = await send({ port, ca, path: '/readyz' });
    t.equal(ready.status, 503, 'not ready while draining');
    t.match(ready.json(), { checks: { notDraining: false } });

    const during: Promise<void>[] = [];
    for (let i = 0; i < 5; i += 1) {
      during.push(
        sendReview({ port, ca }, reviewFor(redisPod(), { uid: `during-${i}` })).then((reply) => {
          t.equal(reply.status, 200, `review ${i} during the grace period is answered`);
          t.equal(
            reply.headers['connection'],
            'close',
            `review ${i} is told to close its connection`,
          );
        }),
      );
    }
    await Promise.all(during);
    await Promise.race([
      idleClosed,
      sleep(5000).then(() => Promise.reject(new Error('idle connection not closed'))),
    ]);
    // Closing an idle connection races with a client writing a review on it, so the server
    // leaves it open while clients may still pick it: until the grace period (1 s) ends.
    t.ok(idleClosedAt - sigtermAt >= 900, 'the idle connection was kept through the grace period');
    t.pass('and closed by the server after it');

    // Finish the in-flight review after the grace period: close() must wait for it.
    await sleep(300);
    slow.finish();
    const answer = await slow.answer;
    t.equal(answer.status, 200, 'the in-flight review is answered');
    t.match(JSON.parse(answer.text), { response: { uid: 'in-flight', allowed: true } });

    const [code, signal] = await Promise.race([
      exited,
      sleep(10_000).then((): [null, null] => [null, null]),
    ]);
    t.equal(signal, null);
    t.equal(code, 0, 'exit code 0 after draining');
    t.match(stdout(), /"msg":"drained"/);
  },
);

t.test('start-up with broken policies is fatal and prints every issue', async (t) => {
  const broken = new URL('../fixtures/policies/broken/', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    builtCli(['serve', '--no-cluster', '--port', '0', '--host', '127.0.0.1', '--policies', broken]),
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await Promise.race([once(child, 'exit'), sleep(10_000).then(() => [null])])) as [
    number | null,
  ];
  if (child.exitCode === null) child.kill('SIGKILL');
  t.equal(code, 1);
  t.match(stderr, /tandem serve: the policies have problems:/);
  t.match(stderr, /bad-name\.yaml:\d+:\d+:/, 'issues name file and line');
});

t.test('--help lists every flag with its environment twin', async (t) => {
  const child = spawn(process.execPath, builtCli(['serve', '--help']), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const [code] = (await once(child, 'exit')) as [number];
  t.equal(code, 0);
  for (const flag of [
    'port',
    'tls-cert',
    'tls-key',
    'policies',
    'no-cluster',
    'namespace-labels',
    'sidecar-mode',
    'grace-period',
    'log-level',
    'body-limit',
    'max-connections',
  ]) {
    t.match(stdout, `--${flag}`);
    t.match(stdout, `TANDEM_${flag.toUpperCase().replaceAll('-', '_')}`);
  }
});

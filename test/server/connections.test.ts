/**
 * The connection budget and timeouts (issue 9, item 3), over real TLS sockets: idle
 * connections cannot lock the apiserver out or hold memory for long, and pipelined
 * requests are answered in order (item 7).
 */
import { once } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { CONNECTION_TIMEOUTS } from '../../src/server/app.ts';
import { sendReview, startHarness, type Harness } from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

/** openTls opens a verified TLS connection to the harness and waits for the handshake. */
async function openTls(harness: Harness): Promise<TLSSocket> {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port: harness.port,
    ca: harness.ca,
    servername: 'localhost',
  });
  socket.on('error', () => {});
  await once(socket, 'secureConnect');
  return socket;
}

/** requestText is a raw HTTP/1.1 POST of a review with `uid`. */
function requestText(uid: string): string {
  const body = JSON.stringify(reviewFor(redisPod(), { uid }));
  return (
    `POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** reviewOn sends one review on an open connection and resolves with the raw answer. */
async function reviewOn(socket: TLSSocket, uid: string): Promise<string> {
  let text = '';
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
  };
  socket.on('data', onData);
  socket.write(requestText(uid));
  for (let waited = 0; waited < 5000 && !text.includes(`"uid":"${uid}"`); waited += 10) {
    await sleep(10);
  }
  socket.off('data', onData);
  return text;
}

function closed(socket: Socket): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  socket.resume(); // read to the end, or the server's FIN is never seen
  return Promise.race([once(socket, 'close').then(() => true), sleep(5000).then(() => false)]);
}

async function shedCount(harness: Harness, reason: string): Promise<number> {
  const text = await harness.webhook.metrics.registry.metrics();
  const match = new RegExp(`tandem_connections_shed_total\\{reason="${reason}"\\} (\\d+)`).exec(
    text,
  );
  return Number(match?.[1] ?? Number.NaN);
}

async function normalReviewIsAnswered(t: Test, harness: Harness): Promise<void> {
  const reply = await sendReview(harness, reviewFor(redisPod(), { uid: 'normal' }));
  t.equal(reply.status, 200, 'a normal review on a new connection is answered');
  t.match(reply.json(), { response: { uid: 'normal', allowed: true } });
}

t.test('at the connection cap, a new connection displaces the quietest idle one', async (t) => {
  const harness = await startHarness(t, { maxConnections: 3 });
  const sockets: TLSSocket[] = [];
  for (const uid of ['a', 'b', 'c']) {
    const socket = await openTls(harness);
    t.teardown(() => socket.destroy());
    t.match(await reviewOn(socket, uid), /HTTP\/1\.1 200/, `keep-alive connection ${uid} works`);
    sockets.push(socket);
  }
  // b was used again, so a is now the quietest.
  t.match(await reviewOn(sockets[1] as TLSSocket, 'b2'), /HTTP\/1\.1 200/);

  await normalReviewIsAnswered(t, harness);
  t.equal(await closed(sockets[0] as TLSSocket), true, 'the quietest idle connection was closed');
  t.equal((sockets[1] as TLSSocket).destroyed, false, 'a recently used connection stays open');
  t.strictSame(await shedCount(harness, 'evicted'), 1, 'the eviction is counted');
});

t.test('a connection with a request in flight is never displaced', async (t) => {
  const harness = await startHarness(t, { maxConnections: 2 });
  const busy: TLSSocket[] = [];
  for (const uid of ['slow-1', 'slow-2']) {
    const socket = await openTls(harness);
    t.teardown(() => socket.destroy());
    const text = requestText(uid);
    socket.write(text.slice(0, text.length - 10)); // headers and most of the body
    busy.push(socket);
  }
  await sleep(100);

  const refused = tcpConnect({ host: '127.0.0.1', port: harness.port });
  refused.on('error', () => {});
  t.equal(await closed(refused), true, 'with every connection busy, a new one is refused');
  t.strictSame(await shedCount(harness, 'refused'), 1, 'the refusal is counted');

  for (const [index, socket] of busy.entries()) {
    const uid = `slow-${index + 1}`;
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.write(requestText(uid).slice(-10));
    for (let waited = 0; waited < 5000 && !answer.includes(uid); waited += 10) await sleep(10);
    t.match(answer, new RegExp(`HTTP/1\\.1 200[\\s\\S]*"uid":"${uid}"`), `${uid} is answered`);
  }
});

t.test('connections slower than an apiserver are closed at each step', async (t) => {
  const harness = await startHarness(t, {
    timeouts: { handshake: 300, headers: 300, request: 600 },
  });
  // A TCP connection that never starts TLS.
  const silent = tcpConnect({ host: '127.0.0.1', port: harness.port });
  silent.on('error', () => {});
  // A TLS connection that never sends a request.
  const noRequest = await openTls(harness);
  // Headers that never end.
  const slowHeaders = await openTls(harness);
  slowHeaders.write('POST /mutate HTTP/1.1\r\nHost: localhost\r\n');
  // A body that never ends.
  const slowBody = await openTls(harness);
  slowBody.write(requestText('never').slice(0, 400));
  const started = Date.now();
  const results = await Promise.all([silent, noRequest, slowHeaders, slowBody].map(closed));
  t.strictSame(results, [true, true, true, true], 'every slow connection was closed');
  t.ok(Date.now() - started < 4000, 'within a few timeout periods');
  await normalReviewIsAnswered(t, harness);
});

t.test('the default timeouts fit inside what an apiserver waits for', (t) => {
  t.ok(CONNECTION_TIMEOUTS.handshake <= 10_000, 'handshake: client-go gives up after 10 s');
  t.ok(CONNECTION_TIMEOUTS.headers <= 10_000, 'headers come right after the handshake');
  t.ok(CONNECTION_TIMEOUTS.request <= 30_000, 'a webhook call lasts at most 30 s');
  t.ok(CONNECTION_TIMEOUTS.idle > 90_000, 'idle longer than the client, so the client closes');
  t.end();
});

t.test('pipelined requests are all answered, in order, on one connection', async (t) => {
  const harness = await startHarness(t);
  const socket = await openTls(harness);
  t.teardown(() => socket.destroy());
  const uids = Array.from({ length: 50 }, (_, index) => `pipelined-${index}`);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  socket.write(uids.map(requestText).join(''));
  const last = `"uid":"${uids.at(-1) ?? ''}"`;
  for (let waited = 0; waited < 10_000 && !text.includes(last); waited += 20) await sleep(20);
  const answered = [...text.matchAll(/"uid":"(pipelined-\d+)"/g)].map((match) => match[1]);
  t.strictSame(answered, uids, 'every request is answered, in the order sent');
  t.strictSame(text.match(/HTTP\/1\.1 (\d+)/g)?.length, 50);
  t.notOk(/HTTP\/1\.1 (?!200)/.test(text), 'every answer is 200');
  t.equal(socket.destroyed, false, 'the connection stays open');
});

/**
 * Availability figures for the bench (issue 9): what a flood of idle TLS connections
 * costs in memory (in cluster mode) while normal reviews go on, and whether a rollout fails any call of an apiserver-like Go client.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type TLSSocket } from 'node:tls';
import { buildGoWebhookClient } from '../test/fixtures/go-webhook-client/build.ts';
import { rssMiB, type ServerProcess } from './processes.ts';

/** IdleFlood is the result of holding many idle connections open against tandem. */
export interface IdleFlood {
  readonly attempted: number;
  readonly rssIdleMiB: number;
  readonly rssFloodMiB: number;
  readonly evicted: number;
  readonly refused: number;
  /** normal reviews while the flood opens its connections (TLS handshakes take the core). */
  readonly normalOpening: NormalReviews;
  /** normal reviews while the flood's connections are held open. */
  readonly normalHeld: NormalReviews;
  readonly normalBefore: NormalReviews;
}

/** NormalReviews is how a normal client's reviews fared. */
export interface NormalReviews {
  readonly answered: number;
  readonly sent: number;
  readonly p99Ms: number;
}

/** DrainResult is what the Go client saw through a rollout. */
export type DrainResult =
  | {
      readonly ran: true;
      readonly calls: number;
      readonly failed: number;
      readonly errors: Record<string, number>;
      readonly exitCode: number | null;
    }
  | { readonly ran: false; readonly why: string };

const FLOOD_BATCH = 100;

/** openIdle opens a TLS connection, sends one review like a pooled apiserver connection, and keeps it. */
function openIdle(port: number, ca: string, body: string): Promise<TLSSocket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca }, () => {
      socket.write(
        `POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      resolve(socket);
    });
    socket.on('data', () => {});
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => resolve(undefined));
  });
}

function sendOne(agent: Agent, url: URL, body: string, ca: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        ca,
        headers: { 'content-type': 'application/json' },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve(res.statusCode === 200 ? performance.now() - started : undefined),
        );
      },
    );
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

async function normalReviews(
  server: ServerProcess,
  body: string,
  ca: string,
  count: number,
): Promise<NormalReviews> {
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  const url = new URL('/mutate', server.url);
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const ms = await sendOne(agent, url, body, ca);
    if (ms !== undefined) times.push(ms);
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  const p99Ms = times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] ?? Number.NaN;
  return { answered: times.length, sent: count, p99Ms };
}

function getStatus(url: URL, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { ca, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function shedCounts(server: ServerProcess, ca: string): Promise<Record<string, number>> {
  const text = await new Promise<string>((resolve) => {
    const req = request(new URL('/metrics', server.url), { ca }, (res) => {
      let out = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      res.on('end', () => resolve(out));
    });
    req.on('error', () => resolve(''));
    req.end();
  });
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/tandem_connections_shed_total\{reason="(\w+)"\} (\d+)/g)) {
    counts[match[1] ?? ''] = Number(match[2]);
  }
  return counts;
}

/**
 * measureIdleFlood opens `attempted` connections that each send one review and then sit
 * idle, as an apiserver's pool would but many times over, and measures tandem's RSS and
 * a normal client's reviews while they are held.
 */
export async function measureIdleFlood(
  server: ServerProcess,
  options: { readonly caFile: string; readonly body: string; readonly attempted: number },
): Promise<IdleFlood> {
  const ca = readFileSync(options.caFile, 'utf8');
  const normalBefore = await normalReviews(server, options.body, ca, 200);
  const rssIdleMiB = rssMiB(server.pid);
  const held: TLSSocket[] = [];
  const flood = (async () => {
    for (let opened = 0; opened < options.attempted; opened += FLOOD_BATCH) {
      const batch = Math.min(FLOOD_BATCH, options.attempted - opened);
      const sockets = await Promise.all(
        Array.from({ length: batch }, () => openIdle(server.port, ca, options.body)),
      );
      for (const socket of sockets) if (socket !== undefined) held.push(socket);
    }
  })();
  // Normal reviews go on while the flood opens its connections, and while it holds them.
  const normalOpening = await normalReviews(server, options.body, ca, 200);
  await flood;
  await sleep(1000);
  const normalHeld = await normalReviews(server, options.body, ca, 200);
  const rssFloodMiB = rssMiB(server.pid);
  const shed = await shedCounts(server, ca);
  for (const socket of held) socket.destroy();
  return {
    attempted: options.attempted,
    rssIdleMiB,
    rssFloodMiB,
    evicted: shed['evicted'] ?? 0,
    refused: shed['refused'] ?? 0,
    normalOpening,
    normalHeld,
    normalBefore,
  };
}

/**
 * measureDrain starts `tandem serve` with a grace period, has the apiserver-like Go
 * client (test/fixtures/go-webhook-client) call it through SIGTERM until the grace
 * period ends, and reports what failed.
 */
export async function measureDrain(options: {
  readonly repo: string;
  readonly workDir: string;
  readonly tls: { readonly certFile: string; readonly keyFile: string };
  readonly port: number;
  readonly body: string;
  readonly graceSeconds: number;
}): Promise<DrainResult> {
  const client = buildGoWebhookClient(options.workDir);
  if (client instanceof Error) return { ran: false, why: `no Go client: ${client.message}` };
  const bodyFile = join(options.workDir, 'drain-review.json');
  await writeFile(bodyFile, options.body);
  const server = spawn(
    process.execPath,
    [
      join(options.repo, 'dist', 'tandem.js'),
      'serve',
      '--no-cluster',
      '--host',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--tls-cert',
      options.tls.certFile,
      '--tls-key',
      options.tls.keyFile,
      '--policies',
      join(options.repo, 'policies'),
      '--log-level',
      'warn',
      '--grace-period',
      String(options.graceSeconds),
    ],
    { stdio: 'ignore' },
  );
  const exited = once(server, 'exit') as Promise<[number | null]>;
  try {
    const ca = readFileSync(options.tls.certFile, 'utf8');
    const health = new URL(`https://127.0.0.1:${options.port}/healthz`);
    for (let tries = 0; (await getStatus(health, ca)) !== 200; tries += 1) {
      if (tries > 600 || server.exitCode !== null)
        return { ran: false, why: 'tandem did not start' };
      await sleep(100);
    }
    const caller = spawn(
      client,
      [
        '-url',
        `https://127.0.0.1:${options.port}/mutate`,
        '-ca',
        options.tls.certFile,
        '-server-name',
        '127.0.0.1',
        '-body',
        bodyFile,
        '-callers',
        '8',
        '-max-seconds',
        '60',
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
    let out = '';
    caller.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const callerExited = once(caller, 'exit');
    await sleep(2000);
    server.kill('SIGTERM');
    await sleep(options.graceSeconds * 1000 - 300);
    caller.stdin.end('stop\n');
    await callerExited;
    const [exitCode] = await Promise.race([exited, sleep(20_000).then((): [null] => [null])]);
    const summary = JSON.parse(out) as {
      calls: number;
      failed: number;
      errors: Record<string, number>;
    };
    return { ran: true, ...summary, exitCode };
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

/** everyAnswered: no normal review was lost to the flood. */
export function everyAnswered(flood: IdleFlood): boolean {
  return [flood.normalBefore, flood.normalOpening, flood.normalHeld].every(
    (reviews) => reviews.answered === reviews.sent,
  );
}

/** formatAvailability prints the section of the report, each target with met/missed. */
export function formatAvailability(
  flood: IdleFlood,
  limitMiB: number,
  drain: DrainResult,
): string[] {
  const worst = flood.rssFloodMiB;
  const verdict = (met: boolean): string => (met ? 'met' : 'MISSED');
  const lines = [
    '',
    '## Availability',
    '',
    `- Idle-connection flood: ${flood.attempted} TLS connections opened, each after one review, and held; ` +
      `${flood.evicted} evicted, ${flood.refused} refused at the cap.`,
    `  RSS in cluster mode ${flood.rssIdleMiB.toFixed(0)} MiB before, ${worst.toFixed(0)} MiB during, ` +
      `against the Deployment's ${limitMiB} MiB limit: ${verdict(worst < limitMiB)}.`,
    `  Normal reviews (one client, 2 keep-alive connections, one at a time): p99 ` +
      `${flood.normalBefore.p99Ms.toFixed(2)} ms before the flood; ` +
      `${flood.normalOpening.answered}/${flood.normalOpening.sent} answered, p99 ${flood.normalOpening.p99Ms.toFixed(2)} ms ` +
      `while it opens (its TLS handshakes share the core); ` +
      `${flood.normalHeld.answered}/${flood.normalHeld.sent} answered, p99 ${flood.normalHeld.p99Ms.toFixed(2)} ms ` +
      `while it is held: ${verdict(everyAnswered(flood))}`,
  ];
  if (drain.ran) {
    const errors = Object.entries(drain.errors)
      .map(([reason, count]) => `${count} × ${reason}`)
      .join(', ');
    lines.push(
      `- Drain, Go net/http client as the apiserver's: ${drain.calls} calls through SIGTERM and the grace period, ` +
        `calls failed: ${drain.failed}${errors === '' ? '' : ` (${errors})`}, exit code ${String(drain.exitCode)}: ` +
        verdict(drain.failed === 0 && drain.exitCode === 0),
    );
  } else {
    lines.push(`- Drain: not run (${drain.why})`);
  }
  return lines;
}

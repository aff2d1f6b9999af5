/**
 * The two loads the bench puts on a server. Saturation: autocannon over HTTP/1.1
 * keep-alive, as many reviews as the server answers. Latency at a fixed rate: an
 * open-loop paced client written here, because autocannon's `overallRate` sends each
 * connection's share of a second in one burst at the start of the second (its
 * httpClient.js resets a per-second counter) and records latency in whole milliseconds
 * (an HDR histogram with a lowest discernible value of 1), which cannot tell 0.6 ms from
 * 1.4 ms when the target is 2 ms.
 */
import autocannon from 'autocannon';
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { SERIAL_MARKER } from './bodies.ts';
import { cpuSeconds } from './processes.ts';

/** Saturation is what a server sustains flat out. */
export interface Saturation {
  readonly reviewsPerSecond: number;
  readonly failures: number;
  /** serverCpu is the server's CPU use over the run, 1 = one core. */
  readonly serverCpu: number;
  /** clientCpu is this process's CPU use over the run: near 1 means the client limited it. */
  readonly clientCpu: number;
}

/** SaturationOptions sets one saturation run. */
export interface SaturationOptions {
  readonly seconds: number;
  readonly connections: number;
}

const HEADERS = { 'content-type': 'application/json' };

/**
 * RECONNECT_EVERY is tandem's MAX_REQUESTS_PER_SOCKET (src/server/app.ts). Node marks the
 * last answer `Connection: close` but leaves the socket open and answers 503 to anything
 * sent on it after that; Go's client (the apiserver's) honours the header and dials
 * again, autocannon does not. So autocannon is told to reconnect at the same count, for
 * both servers alike, and pays the TLS handshake the apiserver would pay.
 */
const RECONNECT_EVERY = 1000;

let serial = 0;

/** withSerial is the body of one request: the marker, if any, made unique. */
export function withSerial(body: string): string {
  serial += 1;
  return body.replace(SERIAL_MARKER, `s${serial.toString(36)}`);
}

/** cannon is autocannon with the bench's fixed options. */
function cannon(
  url: string,
  body: string,
  load: { connections: number } & ({ duration: number } | { amount: number }),
) {
  return autocannon({
    url: `${url}/mutate`,
    method: 'POST',
    headers: HEADERS,
    body,
    idReplacement: body.includes(SERIAL_MARKER),
    reconnectRate: RECONNECT_EVERY,
    ...load,
  });
}

/** warmUp runs a short load so V8 has compiled the hot path before anything is measured. */
export async function warmUp(url: string, body: string, seconds: number): Promise<void> {
  await cannon(url, body, { connections: 4, duration: seconds });
}

/** saturate drives the server with `connections` keep-alive connections for `seconds`. */
export async function saturate(
  target: Target,
  body: string,
  options: SaturationOptions,
): Promise<Saturation> {
  const serverBefore = cpuSeconds(target.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const result = await cannon(target.url, body, {
    connections: options.connections,
    duration: options.seconds,
  });
  const elapsed = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  return {
    reviewsPerSecond: result['2xx'] / result.duration,
    failures: result.errors + result.timeouts + result.non2xx,
    serverCpu: (cpuSeconds(target.pid) - serverBefore) / elapsed,
    clientCpu: (client.user + client.system) / 1e6 / elapsed,
  };
}

/** Target is a server to load: its URL and its pid, for CPU accounting. */
export interface Target {
  readonly url: string;
  readonly pid: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[Math.floor(mid)] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** medianSaturation is the run with the median reviews/s, with the failures of all runs. */
function medianSaturation(runs: readonly Saturation[]): Saturation {
  const rate = median(runs.map((r) => r.reviewsPerSecond));
  const closest = runs.reduce((a, b) =>
    Math.abs(b.reviewsPerSecond - rate) < Math.abs(a.reviewsPerSecond - rate) ? b : a,
  );
  const failures = runs.reduce((sum, r) => sum + r.failures, 0);
  return { ...closest, reviewsPerSecond: rate, failures };
}

/**
 * compareSaturation saturates each target in turn, `rounds` times over, and keeps each
 * one's median. On a shared machine another process's burst of work lowers whichever
 * run it lands on; short alternating runs spread such bursts over both servers, and the
 * median drops the runs they hit, where one long run per server would put a burst on
 * one side of the ratio only.
 */
export async function compareSaturation(
  targets: readonly Target[],
  body: string,
  options: SaturationOptions & { readonly rounds: number },
): Promise<Saturation[]> {
  const runs: Saturation[][] = targets.map(() => []);
  for (let round = 0; round < options.rounds; round += 1) {
    for (const [i, target] of targets.entries()) {
      runs[i]?.push(await saturate(target, body, options));
    }
  }
  return runs.map(medianSaturation);
}

/** Latency is the answer times at a fixed rate, in milliseconds. */
export interface Latency {
  readonly rate: number;
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly failures: number;
}

/** PacedOptions sets one fixed-rate run. */
export interface PacedOptions {
  readonly rate: number;
  readonly seconds: number;
  /** connections the client may open; the apiserver keeps a few per webhook. */
  readonly connections: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

function sendOne(
  agent: Agent,
  target: URL,
  template: string,
): Promise<{ ms: number; ok: boolean }> {
  const body = withSerial(template);
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: '/mutate',
        method: 'POST',
        headers: { ...HEADERS, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const ms = performance.now() - started;
          resolve({ ms, ok: res.statusCode === 200 && text.includes('"allowed":true') });
        });
      },
    );
    req.on('error', () => resolve({ ms: performance.now() - started, ok: false }));
    req.end(body);
  });
}

/** PacedSamples are the latencies of one paced run, in milliseconds, and its failures. */
interface PacedSamples {
  readonly times: number[];
  readonly failures: number;
}

/**
 * pacedSamples sends `rate` reviews a second, evenly spaced, for `seconds`, whatever the
 * answers do (open loop): a slow answer does not delay the next request, so queueing
 * shows up in the latency instead of hiding in a lower rate. Each latency runs from the
 * request's write to the end of its answer.
 */
async function pacedSamples(
  url: string,
  body: string,
  options: PacedOptions,
): Promise<PacedSamples> {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: options.connections,
    rejectUnauthorized: false,
  });
  const target = new URL(url);
  // Open every connection first: a TLS handshake is not what this run measures.
  await Promise.all(
    Array.from({ length: options.connections }, () => sendOne(agent, target, body)),
  );
  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const pending: Promise<{ ms: number; ok: boolean }>[] = [];
  const started = performance.now();
  await new Promise<void>((resolve) => {
    // A 1 ms tick sends whatever is due; timer jitter moves a send by under a tick, and
    // the latency is measured from the actual send.
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
      while (pending.length < due) pending.push(sendOne(agent, target, body));
      if (pending.length >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const results = await Promise.all(pending);
  agent.destroy();
  const times = results.filter((r) => r.ok).map((r) => r.ms);
  return { times, failures: results.length - times.length };
}

function summarise(rate: number, runs: readonly PacedSamples[]): Latency {
  const times = runs.flatMap((r) => r.times).sort((a, b) => a - b);
  return {
    rate,
    samples: times.length,
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    p999: percentile(times, 0.999),
    max: times.at(-1) ?? Number.NaN,
    failures: runs.reduce((sum, r) => sum + r.failures, 0),
  };
}

/**
 * comparePaced runs the fixed-rate load on each target in turn, in `rounds` slices of
 * `seconds`, and pools each target's samples: a neighbour's burst of work on the shared
 * machine then lands on both servers' percentiles alike.
 */
export async function comparePaced(
  targets: readonly Target[],
  body: string,
  options: PacedOptions & { readonly rounds: number },
): Promise<Latency[]> {
  const runs: PacedSamples[][] = targets.map(() => []);
  for (let round = 0; round < options.rounds; round += 1) {
    for (const [i, target] of targets.entries()) {
      runs[i]?.push(await pacedSamples(target.url, body, options));
    }
  }
  return runs.map((r) => summarise(options.rate, r));
}

/** sendAmount sends exactly `amount` reviews flat out; used to reach a review count. */
export async function sendAmount(url: string, body: string, amount: number): Promise<number> {
  const result = await cannon(url, body, { connections: 8, amount });
  return result.errors + result.timeouts + result.non2xx;
}

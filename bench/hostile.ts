/**
 * The hostile-review measurement (issue 9, item 1): how long tandem takes to answer each
 * hostile review of hostile-bodies.ts, and what a normal review's latency does while
 * hostile ones arrive beside it. Targets: every hostile review answered in under 50 ms;
 * the normal review's p50 within 1 ms of its p50 alone, and its p99 under the same 50 ms.
 */
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { distinctReviews } from './bodies.ts';
import { hostileBodies } from './hostile-bodies.ts';
import { comparePaced, withSerial, type Latency, type Target } from './load.ts';
import { cpuSeconds } from './processes.ts';

/** HOSTILE_TARGET_MS is the bar for a hostile review's answer. */
export const HOSTILE_TARGET_MS = 50;

// p50 may move by this much beside hostile reviews and still be "the usual latency".
const P50_ALLOWANCE_MS = 1;

/** HostileOptions sets one hostile run. */
export interface HostileOptions {
  /** repeats is how many times each hostile review is sent, one after another. */
  readonly repeats: number;
  /** the normal review's paced load, as in the main latency table. */
  readonly rate: number;
  readonly seconds: number;
  readonly rounds: number;
  readonly connections: number;
  /** everyMs is the gap between hostile reviews sent beside the normal load. */
  readonly everyMs: number;
}

/** HostileCase is one hostile review's answer times, in milliseconds. */
export interface HostileCase {
  readonly name: string;
  readonly bytes: number;
  readonly p50: number;
  readonly max: number;
  /**
   * cpuMs is the server's CPU time per review (from /proc, 10 ms ticks spread over the
   * repeats): the work itself, which a busy machine does not inflate as it does latency.
   */
  readonly cpuMs: number;
  /** baselineP50 and baselineCpuMs are the bare baseline's on the same body: the floor. */
  readonly baselineP50: number;
  readonly baselineCpuMs: number;
  /** answer is what tandem said, e.g. `denied: annotation tandem.dev/inject lists ...`. */
  readonly answer: string;
  readonly failures: number;
}

/** HostileReport is the whole measurement. */
export interface HostileReport {
  readonly cases: readonly HostileCase[];
  readonly normalBody: string;
  readonly alone: Latency;
  readonly beside: Latency;
  /** hostileBeside counts the hostile reviews sent during the `beside` run. */
  readonly hostileBeside: number;
}

interface Answer {
  readonly ms: number;
  readonly status: number;
  readonly text: string;
}

function post(agent: Agent, url: URL, template: string): Promise<Answer> {
  const body = withSerial(template);
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: '/mutate',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ ms: performance.now() - started, status: res.statusCode ?? 0, text });
        });
      },
    );
    req.on('error', (error) =>
      resolve({ ms: performance.now() - started, status: 0, text: error.message }),
    );
    req.end(body);
  });
}

/** describeAnswer reads a review answer as `patched`, `allowed` or `denied: <message>`. */
function describeAnswer(answer: Answer): string {
  if (answer.status !== 200) return `HTTP ${answer.status}`;
  const response = (JSON.parse(answer.text) as { response?: Record<string, unknown> }).response;
  if (response?.['allowed'] === true)
    return response['patch'] === undefined ? 'allowed' : 'patched';
  const status = response?.['status'] as { message?: string } | undefined;
  return `denied: ${status?.message ?? ''}`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

interface Timing {
  readonly p50: number;
  readonly max: number;
  readonly cpuMs: number;
  readonly answer: string;
  readonly failures: number;
}

/** timeBody sends `body` `repeats` times on `agent` and times the answers. */
async function timeBody(
  target: Target,
  agent: Agent,
  body: { text: string; expect: string },
  repeats: number,
): Promise<Timing> {
  const url = new URL(target.url);
  const times: number[] = [];
  let answer = '';
  let failures = 0;
  const cpuBefore = cpuSeconds(target.pid);
  for (let i = 0; i < repeats; i += 1) {
    const reply = await post(agent, url, body.text);
    answer = describeAnswer(reply);
    if (!answer.startsWith(body.expect)) failures += 1;
    times.push(reply.ms);
  }
  const cpuMs = ((cpuSeconds(target.pid) - cpuBefore) * 1000) / repeats;
  return { p50: median(times), max: Math.max(...times), cpuMs, answer, failures };
}

async function measureCase(
  servers: { tandem: Target; baseline: Target },
  agents: { tandem: Agent; baseline: Agent },
  body: { name: string; text: string; expect: string },
  repeats: number,
): Promise<HostileCase> {
  const tandem = await timeBody(servers.tandem, agents.tandem, body, repeats);
  // The baseline allows everything: only its times count.
  const baseline = await timeBody(
    servers.baseline,
    agents.baseline,
    { ...body, expect: '' },
    repeats,
  );
  return {
    name: body.name,
    bytes: Buffer.byteLength(body.text),
    ...tandem,
    baselineP50: baseline.p50,
    baselineCpuMs: baseline.cpuMs,
  };
}

/**
 * measureHostile times each hostile review on its own, then runs the normal review's
 * paced load alone and again with the largest hostile review sent every `everyMs`.
 */
export async function measureHostile(
  servers: { tandem: Target; baseline: Target },
  normal: { name: string; text: string },
  options: HostileOptions,
): Promise<HostileReport> {
  const target = servers.tandem;
  const url = new URL(target.url);
  const newAgent = (): Agent =>
    new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  const agents = { tandem: newAgent(), baseline: newAgent() };
  const agent = agents.tandem;
  // Each send is a different pod, as an attacker would vary it: the same body again would
  // be answered from the answer cache, and time the cache rather than the engine.
  const bodies = hostileBodies().map((b) => ({
    ...b,
    text: distinctReviews(JSON.stringify(b.review)),
  }));
  const cases: HostileCase[] = [];
  try {
    // One pass first, so V8 has compiled what each body reaches before it is timed.
    for (const body of bodies) {
      await post(agent, url, body.text);
      await post(agents.baseline, new URL(servers.baseline.url), body.text);
    }
    for (const body of bodies) {
      cases.push(await measureCase(servers, agents, body, options.repeats));
    }
    const paced = { ...options, rounds: options.rounds };
    const [alone] = await comparePaced([target], normal.text, paced);
    let running = true;
    let hostileBeside = 0;
    const largest = bodies[0]?.text ?? '';
    const sender = (async () => {
      while (running) {
        await post(agent, url, largest);
        hostileBeside += 1;
        await sleep(options.everyMs);
      }
    })();
    const [beside] = await comparePaced([target], normal.text, paced);
    running = false;
    await sender;
    if (alone === undefined || beside === undefined) throw new Error('no latency');
    return { cases, normalBody: normal.name, alone, beside, hostileBeside };
  } finally {
    agents.tandem.destroy();
    agents.baseline.destroy();
  }
}

function verdict(met: boolean): string {
  return met ? '**met**' : '**missed**';
}

function ms(value: number): string {
  return value.toFixed(2);
}

/** hostileFailures counts hostile answers that were not the expected one, and failed normal reviews. */
export function hostileFailures(report: HostileReport): number {
  return (
    report.cases.reduce((sum, c) => sum + c.failures, 0) +
    report.alone.failures +
    report.beside.failures
  );
}

/** formatHostile renders the report as a markdown section for the bench's output. */
export function formatHostile(report: HostileReport, options: HostileOptions): string {
  const lines = [
    '',
    '### Hostile reviews (issue 9)',
    '',
    `Each sent ${options.repeats} times, each time as a different pod (so never from the answer cache), one after another, on one keep-alive connection, to a fresh tandem and to the bare baseline. ` +
      "CPU is the server process's from /proc (10 ms ticks over the repeats): the work itself, which a busy machine inflates less than latency.",
    '',
    '| hostile review | KB | tandem p50 / max ms | tandem CPU ms per review | baseline p50 ms / CPU ms | answer |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const c of report.cases) {
    const answer = c.answer.length > 110 ? `${c.answer.slice(0, 107)}...` : c.answer;
    lines.push(
      `| ${c.name} | ${(c.bytes / 1024).toFixed(0)} | ${ms(c.p50)} / ${ms(c.max)} | ${c.cpuMs.toFixed(1)} | ${ms(c.baselineP50)} / ${c.baselineCpuMs.toFixed(1)} | ${answer.replaceAll('|', '\\|')} |`,
    );
  }
  const worst = Math.max(...report.cases.map((c) => c.max));
  const slowestP50 = Math.max(...report.cases.map((c) => c.p50));
  const { alone, beside } = report;
  const p50Met = beside.p50 <= alone.p50 + P50_ALLOWANCE_MS;
  const p99Met = beside.p99 < HOSTILE_TARGET_MS;
  lines.push(
    '',
    `Normal review (${report.normalBody}) at ${alone.rate}/s, open loop: p50 / p99 / max ${ms(alone.p50)} / ${ms(alone.p99)} / ${ms(alone.max)} ms alone; ` +
      `${ms(beside.p50)} / ${ms(beside.p99)} / ${ms(beside.max)} ms beside the 1.5 MiB hostile review sent every ${options.everyMs} ms (${report.hostileBeside} sent).`,
    '',
    `- Hostile reviews answered in under ${HOSTILE_TARGET_MS} ms: typically (each one's p50) ${verdict(slowestP50 < HOSTILE_TARGET_MS)} (slowest p50 ${ms(slowestP50)} ms); every time ${verdict(worst < HOSTILE_TARGET_MS)} (slowest ${ms(worst)} ms).`,
    `- Normal review keeps its usual latency beside them: p50 within ${P50_ALLOWANCE_MS} ms ${verdict(p50Met)} (${ms(alone.p50)} → ${ms(beside.p50)} ms), p99 under ${HOSTILE_TARGET_MS} ms ${verdict(p99Met)} (${ms(alone.p99)} → ${ms(beside.p99)} ms).`,
    '',
  );
  return lines.join('\n');
}

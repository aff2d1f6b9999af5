/**
 * The bench's report: the measurements in markdown tables, the machine they ran on, and
 * each target of issue 5 judged met or missed. The driver prints it and, with --out,
 * writes it to a file (docs/benchmark.md), which the README copies.
 */
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { Latency, Saturation } from './load.ts';
import type { Pinning } from './processes.ts';

/** BodyRow is one body measured on both servers. */
export interface BodyRow {
  readonly name: string;
  readonly bytes: number;
  readonly baseline: Saturation;
  readonly tandem: Saturation;
  readonly baselineLatency: Latency;
  readonly tandemLatency: Latency;
  /** tandemRss and baselineRss are the long-running servers' RSS after this row, in MiB. */
  readonly tandemRss: number;
  readonly baselineRss: number;
}

/** PolicyScale compares the same body on 3 and on 1,000 loaded policies. */
export interface PolicyScale {
  readonly body: string;
  readonly three: number;
  readonly thousand: number;
  readonly startSeconds: number;
  readonly rss: number;
}

/** ContainerScale compares a 50-container pod with the one-container pod. */
export interface ContainerScale {
  readonly body: string;
  readonly bytes: number;
  readonly tandem: Saturation;
  readonly baseline: Saturation;
  readonly latency: Latency;
  readonly oneContainer: number;
}

/** MemorySample is the fresh server's RSS and live heap after `reviews` reviews, in MiB. */
export interface MemorySample {
  readonly reviews: number;
  readonly rss: number;
  /** liveHeap is the heap in use right after a full GC: what a leak would grow. */
  readonly liveHeap: number;
}

/** Report is everything one run measured. */
export interface Report {
  readonly mode: string;
  readonly pinning: Pinning;
  readonly loadAtStart: readonly number[];
  readonly rows: readonly BodyRow[];
  readonly policyScale: PolicyScale | undefined;
  readonly containerScale: ContainerScale | undefined;
  readonly memory: readonly MemorySample[];
  readonly profile: string | undefined;
  readonly failures: number;
}

// A leak grows the live heap with the review count; after a full GC it is steady to well
// under a MiB otherwise. More than this from 20k to 100k reviews is called growth.
const FLAT_MIB = 2;

const fixed = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const thousands = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
const percent = (ratio: number): string => `${fixed(ratio * 100)}%`;
const change = (ratio: number): string => `${ratio >= 1 ? '+' : ''}${fixed((ratio - 1) * 100, 1)}%`;
const latencyCell = (l: Latency): string =>
  `${fixed(l.p50, 2)} / ${fixed(l.p99, 2)} / ${fixed(l.p999, 2)}`;

/** machine describes where the run happened. */
export function machine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  const gib = totalmem() / 1024 ** 3;
  return `${model}, ${cores.length} cores, ${fixed(gib)} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

/** loadAverage is the 1, 5 and 15 minute load average. */
export function loadAverage(): number[] {
  return loadavg();
}

function bodyTable(rows: readonly BodyRow[], rate: number): string[] {
  return [
    `| body | KB | baseline reviews/s | tandem reviews/s | tandem/baseline | server CPU baseline / tandem | tandem p50 / p99 / p99.9 ms at ${rate}/s | baseline p50 / p99 / p99.9 ms at ${rate}/s | RSS MiB baseline / tandem |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${fixed(r.bytes / 1024, 1)} | ${thousands(r.baseline.reviewsPerSecond)} | ${thousands(r.tandem.reviewsPerSecond)} | ${percent(r.tandem.reviewsPerSecond / r.baseline.reviewsPerSecond)} | ${fixed(r.baseline.serverCpu, 2)} / ${fixed(r.tandem.serverCpu, 2)} | ${latencyCell(r.tandemLatency)} | ${latencyCell(r.baselineLatency)} | ${fixed(r.baselineRss)} / ${fixed(r.tandemRss)} |`,
    ),
  ];
}

function scaleTable(report: Report): string[] {
  const lines = ['| check | tandem reviews/s | compared with | change |', '|---|---:|---|---:|'];
  const p = report.policyScale;
  if (p !== undefined) {
    lines.push(
      `| 1,000 policies loaded, ${p.body} | ${thousands(p.thousand)} | 3 policies loaded: ${thousands(p.three)} | ${change(p.thousand / p.three)} |`,
    );
  }
  const c = report.containerScale;
  if (c !== undefined) {
    lines.push(
      `| 50-container pod (${fixed(c.bytes / 1024, 1)} KB), ${c.body} | ${thousands(c.tandem.reviewsPerSecond)} | 1-container pod: ${thousands(c.oneContainer)} | ${change(c.tandem.reviewsPerSecond / c.oneContainer)} |`,
      `| 50-container pod, against the baseline on the same body | ${thousands(c.tandem.reviewsPerSecond)} | baseline: ${thousands(c.baseline.reviewsPerSecond)} | ${percent(c.tandem.reviewsPerSecond / c.baseline.reviewsPerSecond)} of it |`,
    );
  }
  const notes: string[] = [];
  if (p !== undefined) {
    notes.push(
      `With 1,000 policies the server started in ${fixed(p.startSeconds, 1)} s and held ${fixed(p.rss)} MiB RSS after its runs.`,
    );
  }
  if (c !== undefined) {
    notes.push(
      `50-container pod at ${c.latency.rate}/s: p50 / p99 / p99.9 ${latencyCell(c.latency)} ms.`,
    );
  }
  return [...lines, '', ...notes];
}

function memoryTable(memory: readonly MemorySample[]): string[] {
  return [
    '| reviews answered | RSS MiB | live heap after a full GC, MiB |',
    '|---:|---:|---:|',
    ...memory.map(
      (m) => `| ${thousands(m.reviews)} | ${fixed(m.rss, 1)} | ${fixed(m.liveHeap, 1)} |`,
    ),
  ];
}

function verdict(met: boolean): string {
  return met ? '**met**' : '**missed**';
}

function targets(report: Report): string[] {
  const lines: string[] = [];
  const medium = report.rows.find(
    (r) => r.name.startsWith('medium/') && !r.name.endsWith('all-three'),
  );
  if (medium !== undefined) {
    const ratio = medium.tandem.reviewsPerSecond / medium.baseline.reviewsPerSecond;
    lines.push(
      `- Medium pod at least 80% of the baseline's reviews/s: ${verdict(ratio >= 0.8)} (${percent(ratio)}).`,
    );
  }
  if (report.rows.length > 0) {
    const worst = report.rows.reduce((a, b) => (b.tandemLatency.p99 > a.tandemLatency.p99 ? b : a));
    const rate = worst.tandemLatency.rate;
    lines.push(
      `- p99 under 2 ms at ${rate} reviews/s on one core, every size: ${verdict(worst.tandemLatency.p99 < 2)} (worst: ${worst.name}, ${fixed(worst.tandemLatency.p99, 2)} ms).`,
    );
  }
  const last = report.memory.at(-1);
  const first = report.memory.find((m) => m.reviews > 0);
  if (last !== undefined && first !== undefined) {
    const growth = last.liveHeap - first.liveHeap;
    const rssGrowth = last.rss - first.rss;
    lines.push(
      `- RSS under 120 MiB after ${thousands(last.reviews)} reviews: ${verdict(last.rss < 120)} (${fixed(last.rss, 1)} MiB).`,
      `- Flat from ${thousands(first.reviews)} to ${thousands(last.reviews)} reviews: ${verdict(growth <= FLAT_MIB)} (live heap ${growth >= 0 ? '+' : ''}${fixed(growth, 1)} MiB, ${FLAT_MIB} MiB allowed; RSS ${rssGrowth >= 0 ? '+' : ''}${fixed(rssGrowth, 1)} MiB).`,
    );
  }
  const p = report.policyScale;
  if (p !== undefined) {
    const cost = 1 - p.thousand / p.three;
    lines.push(
      `- 1,000 policies cost at most 10% of reviews/s: ${verdict(cost <= 0.1)} (${fixed(cost * 100, 1)}%).`,
    );
  }
  return lines;
}

/** formatReport renders the whole run as markdown. */
export function formatReport(report: Report, rate: number): string {
  const load = report.loadAtStart.map((n) => n.toFixed(2)).join(', ');
  const sections = [
    '## Benchmark',
    '',
    `Machine: ${machine()}. Pinning: ${report.pinning.why}. Load average at start: ${load}.`,
    `Mode: ${report.mode}.`,
    '',
    '### Reviews per second at saturation, latency at a fixed rate',
    '',
    ...bodyTable(report.rows, rate),
    '',
    '### Scale',
    '',
    ...scaleTable(report),
    '',
    '### Memory: a fresh server, medium body, flat out',
    '',
    ...memoryTable(report.memory),
    '',
    '### Targets (issue 5)',
    '',
    ...targets(report),
  ];
  if (report.failures > 0) {
    sections.push(
      '',
      `**${report.failures} requests failed or were not answered 2xx during the run.**`,
    );
  }
  if (report.profile !== undefined) {
    sections.push('', '### CPU profile of tandem at saturation (medium body)', '', report.profile);
  }
  return `${sections.join('\n')}\n`;
}

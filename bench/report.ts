/**
 * The bench's report: the measurements in markdown tables, the machine they ran on, and
 * each target of issue 16 judged met or missed, with its figure. The driver prints it and, with --out,
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
  readonly rss: number;
}

/** ContainerScale compares a 50-container pod with the one-container pod. */
export interface ContainerScale {
  readonly body: string;
  readonly bytes: number;
  /** distinct: every review a different pod, so none is answered from the cache. */
  readonly distinct: boolean;
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

/** Startup is the median time from spawn to `/readyz` 200, in seconds. */
export interface Startup {
  readonly builtIn: number;
  readonly thousand: number;
}

/** Report is everything one run measured. */
export interface Report {
  readonly mode: string;
  readonly pinning: Pinning;
  readonly loadAtStart: readonly number[];
  /** rows: each body sent again and again, as a ReplicaSet's pods (the answer cache hits). */
  readonly rows: readonly BodyRow[];
  /** distinctRows: each review a different pod (the engine answers every one). */
  readonly distinctRows: readonly BodyRow[];
  /** policyScale is measured on distinct pods. */
  readonly policyScale: PolicyScale | undefined;
  readonly containerScales: readonly ContainerScale[];
  readonly memory: readonly MemorySample[];
  readonly startup: Startup | undefined;
  /** profiles: the medium body repeated, and every pod distinct. */
  readonly profiles: { readonly repeated: string; readonly distinct: string } | undefined;
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

const podsOf = (distinct: boolean): string => (distinct ? 'every pod distinct' : 'repeated');

function scaleTable(report: Report): string[] {
  const lines = ['| check | tandem reviews/s | compared with | change |', '|---|---:|---|---:|'];
  const p = report.policyScale;
  if (p !== undefined) {
    lines.push(
      `| 1,000 policies loaded, ${p.body}, every pod distinct | ${thousands(p.thousand)} | 3 policies loaded: ${thousands(p.three)} | ${change(p.thousand / p.three)} |`,
    );
  }
  for (const c of report.containerScales) {
    lines.push(
      `| 50-container pod (${fixed(c.bytes / 1024, 1)} KB), ${c.body}, ${podsOf(c.distinct)} | ${thousands(c.tandem.reviewsPerSecond)} | 1-container pod: ${thousands(c.oneContainer)} | ${change(c.tandem.reviewsPerSecond / c.oneContainer)} |`,
      `| 50-container pod, ${podsOf(c.distinct)}, against the baseline on the same body | ${thousands(c.tandem.reviewsPerSecond)} | baseline: ${thousands(c.baseline.reviewsPerSecond)} | ${percent(c.tandem.reviewsPerSecond / c.baseline.reviewsPerSecond)} of it |`,
    );
  }
  const notes: string[] = [];
  if (p !== undefined) {
    notes.push(`With 1,000 policies the server held ${fixed(p.rss)} MiB RSS after its runs.`);
  }
  for (const c of report.containerScales) {
    notes.push(
      `50-container pod, ${podsOf(c.distinct)}, at ${c.latency.rate}/s: p50 / p99 / p99.9 ${latencyCell(c.latency)} ms.`,
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

// The targets of issue 16, each a ratio within one run or an absolute figure.
const MEDIUM_MIN = 0.8;
const EVERY_BODY_MIN = 0.7;
const P99_MAX_MS = 2;
const RSS_MAX_MIB = 150;
const POLICY_COST_MAX = 0.05;
const CONTAINERS_MIN = 0.6;
const START_BUILT_IN_MAX_S = 1;
const START_THOUSAND_MAX_S = 3;

const ratioOf = (r: BodyRow): number => r.tandem.reviewsPerSecond / r.baseline.reviewsPerSecond;

function throughputTargets(rows: readonly BodyRow[], pods: string): string[] {
  const lines: string[] = [];
  const medium = rows.find((r) => r.name.startsWith('medium/') && !r.name.endsWith('all-three'));
  if (medium !== undefined) {
    const ratio = ratioOf(medium);
    lines.push(
      `- Medium pod at least ${percent(MEDIUM_MIN)} of the baseline's reviews/s, default logging, ${pods}: ${verdict(ratio >= MEDIUM_MIN)} (${percent(ratio)}).`,
    );
  }
  if (rows.length > 0) {
    const worst = rows.reduce((a, b) => (ratioOf(b) < ratioOf(a) ? b : a));
    lines.push(
      `- Every body at least ${percent(EVERY_BODY_MIN)} of the baseline, ${pods}: ${verdict(ratioOf(worst) >= EVERY_BODY_MIN)} (worst: ${worst.name}, ${percent(ratioOf(worst))}; ${rows.map((r) => `${r.name} ${percent(ratioOf(r))}`).join(', ')}).`,
    );
  }
  return lines;
}

// Judged only where the baseline's own p99 in the same run is under the target: above
// it, the machine's tail is the limit, not tandem's.
function latencyTarget(rows: readonly BodyRow[], pods: string): string[] {
  if (rows.length === 0) return [];
  const judged = rows.filter((r) => r.baselineLatency.p99 < P99_MAX_MS);
  const notJudged = rows.filter((r) => r.baselineLatency.p99 >= P99_MAX_MS);
  const over = judged.filter((r) => r.tandemLatency.p99 >= P99_MAX_MS);
  const rate = rows[0]?.tandemLatency.rate ?? Number.NaN;
  const figures = judged.map((r) => `${r.name} ${fixed(r.tandemLatency.p99, 2)}`).join(', ');
  const skipped =
    notJudged.length === 0
      ? ''
      : `; not judged where the baseline's own p99 was over ${P99_MAX_MS} ms: ${notJudged.map((r) => `${r.name} (baseline ${fixed(r.baselineLatency.p99, 2)}, tandem ${fixed(r.tandemLatency.p99, 2)})`).join(', ')}`;
  const status = judged.length === 0 ? '**not judged**' : verdict(over.length === 0);
  return [
    `- p99 under ${P99_MAX_MS} ms at ${rate} reviews/s, every body, ${pods}: ${status} (ms: ${figures || 'none'}${skipped}).`,
  ];
}

function memoryTargets(memory: readonly MemorySample[]): string[] {
  const last = memory.at(-1);
  const first = memory.find((m) => m.reviews > 0);
  if (last === undefined || first === undefined) return [];
  const growth = last.liveHeap - first.liveHeap;
  const rssGrowth = last.rss - first.rss;
  return [
    `- RSS under ${RSS_MAX_MIB} MiB after ${thousands(last.reviews)} reviews, cluster mode: ${verdict(last.rss < RSS_MAX_MIB)} (${fixed(last.rss, 1)} MiB).`,
    `- Flat from ${thousands(first.reviews)} to ${thousands(last.reviews)} reviews: ${verdict(growth <= FLAT_MIB)} (live heap ${growth >= 0 ? '+' : ''}${fixed(growth, 1)} MiB, ${FLAT_MIB} MiB allowed; RSS ${rssGrowth >= 0 ? '+' : ''}${fixed(rssGrowth, 1)} MiB).`,
  ];
}

function targets(report: Report): string[] {
  const repeated = "repeated (a ReplicaSet's pods)";
  const distinct = podsOf(true);
  const lines = [
    ...throughputTargets(report.rows, repeated),
    ...throughputTargets(report.distinctRows, distinct),
    ...latencyTarget(report.rows, repeated),
    ...latencyTarget(report.distinctRows, distinct),
    ...memoryTargets(report.memory),
  ];
  const p = report.policyScale;
  if (p !== undefined) {
    const cost = 1 - p.thousand / p.three;
    lines.push(
      `- 1,000 policies cost at most ${percent(POLICY_COST_MAX)} of reviews/s against 3, every pod distinct: ${verdict(cost <= POLICY_COST_MAX)} (${fixed(cost * 100, 1)}%).`,
    );
  }
  for (const c of report.containerScales) {
    const ratio = c.tandem.reviewsPerSecond / c.baseline.reviewsPerSecond;
    lines.push(
      `- 50-container pod at least ${percent(CONTAINERS_MIN)} of the baseline on the same body, ${podsOf(c.distinct)}: ${verdict(ratio >= CONTAINERS_MIN)} (${percent(ratio)}).`,
    );
  }
  const s = report.startup;
  if (s !== undefined) {
    lines.push(
      `- \`tandem serve\` ready in under ${START_BUILT_IN_MAX_S} s with the built-in policies: ${verdict(s.builtIn < START_BUILT_IN_MAX_S)} (${fixed(s.builtIn, 2)} s).`,
      `- Ready in under ${START_THOUSAND_MAX_S} s with 1,000 policies: ${verdict(s.thousand < START_THOUSAND_MAX_S)} (${fixed(s.thousand, 2)} s).`,
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
    "Each body sent again and again, as a ReplicaSet's pods reach tandem (tandem answers all but the first two from its answer cache):",
    '',
    ...bodyTable(report.rows, rate),
    '',
    'Every review a different pod (the engine answers every one):',
    '',
    ...bodyTable(report.distinctRows, rate),
    '',
    '### Scale',
    '',
    ...scaleTable(report),
    '',
    '### Memory: a fresh server in cluster mode, medium body, flat out',
    '',
    ...memoryTable(report.memory),
    '',
    '### Targets (issue 16)',
    '',
    ...targets(report),
  ];
  if (report.failures > 0) {
    sections.push(
      '',
      `**${report.failures} requests failed or were not answered 2xx during the run.**`,
    );
  }
  if (report.profiles !== undefined) {
    sections.push(
      '',
      '### CPU profile of tandem at saturation (medium body, repeated)',
      '',
      report.profiles.repeated,
      '',
      '### CPU profile of tandem at saturation (medium body, every pod distinct)',
      '',
      report.profiles.distinct,
    );
  }
  return `${sections.join('\n')}\n`;
}

/** formatMemoryReport renders a --memory-only run: memory in cluster mode, start-up. */
export function formatMemoryReport(memory: readonly MemorySample[], startup: Startup): string {
  const load = loadAverage()
    .map((n) => n.toFixed(2))
    .join(', ');
  const report: Report = {
    mode: 'memory only',
    pinning: { pinned: false, serverCore: 0, clientCore: 0, why: '' },
    loadAtStart: [],
    rows: [],
    distinctRows: [],
    policyScale: undefined,
    containerScales: [],
    memory,
    startup,
    profiles: undefined,
    failures: 0,
  };
  return [
    '### Memory: a fresh server in cluster mode, medium body, flat out',
    '',
    `Machine: ${machine()}. Load average at the end: ${load}.`,
    '',
    ...memoryTable(memory),
    '',
    ...targets(report),
    '',
  ].join('\n');
}

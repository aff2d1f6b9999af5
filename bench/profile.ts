/**
 * summariseProfile reads a V8 .cpuprofile (from `node --cpu-prof`) and ranks functions by
 * self time, then groups the time by where the code lives: tandem's src/, a package in
 * node_modules, Node's own lib, or V8 (GC, native). Idle time is left out, so the shares
 * are of the time the server was busy.
 *
 *   node bench/profile.ts FILE.cpuprofile [TOP]
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** ProfileEntry is one function, or one area, and its self time. */
export interface ProfileEntry {
  readonly name: string;
  readonly ms: number;
  /** share of the busy (non-idle) time, 0..1. */
  readonly share: number;
}

/** ProfileSummary is the top functions and the areas, by self time. */
export interface ProfileSummary {
  readonly busyMs: number;
  readonly functions: readonly ProfileEntry[];
  readonly areas: readonly ProfileEntry[];
}

/** areaOf names where a function's code lives. */
function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? `V8 ${functionName}` : 'V8 (native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith('node:')) return 'node: lib';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (modules?.[1] !== undefined) return modules[1];
  const src = /\/(src|bench)\/(.*)$/.exec(path);
  if (src?.[1] !== undefined && src[2] !== undefined) return `${src[1]}/${src[2]}`;
  return path;
}

function shortLocation(url: string, line: number): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const tail = /(node_modules\/.*|src\/.*|node:.*)$/.exec(path)?.[1] ?? path;
  return ` ${tail}:${line + 1}`;
}

function ranked(totals: Map<string, number>, busy: number, top: number): ProfileEntry[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / busy }));
}

/** summariseProfile ranks the `top` functions and all areas of a .cpuprofile by self time. */
export async function summariseProfile(file: string, top = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    if (node === undefined || node.callFrame.functionName === '(idle)') return;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName === '' ? '(anonymous)' : functionName}${shortLocation(url, lineNumber)}`;
    functions.set(name, (functions.get(name) ?? 0) + delta);
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + delta);
    busy += delta;
  });
  return {
    busyMs: busy / 1000,
    functions: ranked(functions, busy, top),
    areas: ranked(areas, busy, top),
  };
}

/** formatSummary renders a summary as two markdown tables. */
export function formatSummary(summary: ProfileSummary): string {
  const row = (e: ProfileEntry): string =>
    `| ${(e.share * 100).toFixed(1)}% | ${e.ms.toFixed(0)} | \`${e.name}\` |`;
  return [
    `Busy time profiled: ${summary.busyMs.toFixed(0)} ms.`,
    '',
    '| self | ms | function |',
    '|---:|---:|---|',
    ...summary.functions.map(row),
    '',
    '| self | ms | where |',
    '|---:|---:|---|',
    ...summary.areas.map(row),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node bench/profile.ts FILE.cpuprofile [TOP]\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(`${formatSummary(await summariseProfile(file, Number(top ?? 25)))}\n`);
  }
}

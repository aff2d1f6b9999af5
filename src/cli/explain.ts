/**
 * `tandem explain -f FILE`: for each pod in the manifests, which policies apply and why,
 * and which do not and why not — the answer to "why was my pod injected?".
 */
import { parseArgs } from 'node:util';
import { explainPod } from '../inject/engine.ts';
import type { Explanation } from '../inject/engine.ts';
import { workloadName } from '../inject/workloads.ts';
import { loadPolicies } from '../policy/load.ts';
import { parseManifests, readManifestText } from './documents.ts';
import {
  OFFLINE_HELP,
  OFFLINE_OPTIONS,
  offlineContext,
  parseSidecarMode,
  reportFailure,
  workloadPod,
} from './offline.ts';

const HELP = `Usage: tandem explain -f FILE|- [options]

For each pod template in the manifests, says which policies would be injected and why,
and why the others would not. Exit 1 if any pod would be denied.

Options:
${OFFLINE_HELP}`;

const MARK: Record<string, string> = {
  inject: '+',
  'already-injected': '=',
  skip: '-',
  deny: '!',
};

function render(name: string, explanation: Explanation): string {
  const lines = [`${name}:`];
  for (const d of explanation.decisions) {
    lines.push(`  ${MARK[d.decision] ?? '?'} ${d.policy}: ${d.decision} (${d.reason})`);
  }
  if (explanation.decisions.length === 0) lines.push('  (no policies loaded)');
  const { result } = explanation;
  if (result.outcome === 'denied') lines.push(`  result: denied: ${result.reason}`);
  else if (result.outcome === 'unchanged') lines.push('  result: nothing to inject');
  else lines.push(`  result: inject ${result.injected.map((p) => p.name).join(', ')}`);
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}

/** run executes `tandem explain`. */
export async function run(args: string[]): Promise<number> {
  try {
    const { values } = parseArgs({ args, options: OFFLINE_OPTIONS, strict: true });
    if (values.help === true) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.filename === undefined) {
      process.stderr.write(`tandem explain: -f FILE is required\n\n${HELP}`);
      return 2;
    }
    const sidecarMode = parseSidecarMode(values['sidecar-mode']);
    const policies = await loadPolicies(values.policies);
    const documents = parseManifests(await readManifestText(values.filename), values.filename);
    let denied = 0;
    let pods = 0;
    for (const { document } of documents) {
      const workload = workloadPod(document, values.namespace);
      if (workload === undefined) continue;
      pods += 1;
      const context = offlineContext(workload.namespace, sidecarMode);
      const explanation = explainPod(workload.pod, policies, context);
      if (explanation.result.outcome === 'denied') denied += 1;
      process.stdout.write(
        render(`${workloadName(workload.document)} (namespace ${workload.namespace})`, explanation),
      );
    }
    if (pods === 0) process.stdout.write('no pods or pod templates found\n');
    return denied > 0 ? 1 : 0;
  } catch (error) {
    if (
      error instanceof TypeError &&
      'code' in error &&
      String(error.code).startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`tandem explain: ${error.message}\n\n${HELP}`);
      return 2;
    }
    return reportFailure('explain', error);
  }
}

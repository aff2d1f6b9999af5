/**
 * `tandem explain -f FILE`: for each pod in the manifests, which policies apply and why,
 * and which do not and why not — the answer to "why was my pod injected?".
 */
import { explainPod } from '../inject/engine.ts';
import type { Explanation } from '../inject/engine.ts';
import type { ParamSource } from '../inject/params.ts';
import { quoteValue } from '../inject/quote.ts';
import { workloadName } from '../inject/workloads.ts';
import { documentWorkloads } from './document-workloads.ts';
import { OFFLINE_FLAGS, offlineContext, runOfflineVerb } from './offline.ts';

/** FLAGS are the flags of this verb. */
export const FLAGS = OFFLINE_FLAGS;

const VERB = {
  name: 'explain',
  usage: `Usage: tandem explain -f FILE|- [options]

For each pod template in the manifests, says which policies would be injected and why,
and why the others would not. Exit 1 if any pod would be denied.
`,
  flags: FLAGS,
};

const MARK: Record<string, string> = {
  inject: '+',
  'already-injected': '=',
  skip: '-',
  deny: '!',
};

/** sourceText says where a param's value came from, in the order of precedence's words. */
function sourceText(source: ParamSource): string {
  switch (source.origin) {
    case 'default':
      return 'policy default';
    case 'pod':
      return `pod ${source.where ?? ''}`;
    default:
      return source.where ?? source.origin;
  }
}

function render(name: string, explanation: Explanation): string {
  const lines = [`${name}:`];
  for (const d of explanation.decisions) {
    lines.push(`  ${MARK[d.decision] ?? '?'} ${d.policy}: ${d.decision} (${d.reason})`);
    // Every value of an injected policy, and where it came from: the pod, its namespace,
    // the admin's cluster values, or the policy's default.
    for (const source of explanation.params?.get(d.policy) ?? []) {
      lines.push(`      ${source.name}=${quoteValue(source.value)} (${sourceText(source)})`);
    }
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
export function run(args: string[]): Promise<number> {
  return runOfflineVerb(VERB, args, (input) => {
    let denied = 0;
    let pods = 0;
    for (const [index, { value }] of input.documents.entries()) {
      for (const { where, workload } of documentWorkloads(value, input.defaultNamespace)) {
        pods += 1;
        if ('problem' in workload) {
          process.stdout.write(
            `${input.source}: document ${index + 1}${where}: ${workload.problem}\n`,
          );
          denied += 1;
          continue;
        }
        const context = offlineContext(workload.namespace, input.sidecarMode, input.namespaces);
        const explanation = explainPod(workload.pod, input.policies, context);
        if (explanation.result.outcome === 'denied') denied += 1;
        const name = `${workloadName(workload.document)} (namespace ${workload.namespace})`;
        process.stdout.write(render(name, explanation));
      }
    }
    if (pods === 0) process.stdout.write('no pods or pod templates found\n');
    return denied > 0 ? 1 : 0;
  });
}

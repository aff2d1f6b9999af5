/**
 * `tandem explain -f FILE`: for each pod in the manifests, which policies apply and why,
 * and which do not and why not — the answer to "why was my pod injected?".
 */
import { explainPod } from '../inject/engine.ts';
import type { Explanation } from '../inject/engine.ts';
import { workloadName } from '../inject/workloads.ts';
import { injectContext } from '../kube/namespaces.ts';
import { OFFLINE_FLAGS, offlineSidecars, runOfflineVerb, workloadPod } from './offline.ts';

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
export function run(args: string[]): Promise<number> {
  return runOfflineVerb(VERB, args, (input) => {
    let denied = 0;
    let pods = 0;
    const sidecars = offlineSidecars(input.sidecarMode);
    for (const [index, { value }] of input.documents.entries()) {
      const workload = workloadPod(value, input.defaultNamespace);
      if (workload === undefined) continue;
      pods += 1;
      if ('problem' in workload) {
        process.stdout.write(`${input.source}: document ${index + 1}: ${workload.problem}\n`);
        denied += 1;
        continue;
      }
      const context = injectContext(input.namespaces, workload.namespace, sidecars);
      const explanation = explainPod(workload.pod, input.policies, context);
      if (explanation.result.outcome === 'denied') denied += 1;
      const name = `${workloadName(workload.document)} (namespace ${workload.namespace})`;
      process.stdout.write(render(name, explanation));
    }
    if (pods === 0) process.stdout.write('no pods or pod templates found\n');
    return denied > 0 ? 1 : 0;
  });
}

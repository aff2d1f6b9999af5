/**
 * `tandem explain -f FILE`: for each pod in the manifests, which policies apply and why,
 * and which do not and why not — the answer to "why was my pod injected?". It also says
 * when the API server would not send the pod to tandem at all (the webhook
 * configuration derived from the policies, or the one given with --webhook).
 */
import { explainPod, type Explanation } from '../inject/engine.ts';
import type { PolicyDecision } from '../inject/types.ts';
import type { ParamSource } from '../inject/params.ts';
import { quoteValue } from '../inject/quote.ts';
import { workloadName } from '../inject/workloads.ts';
import { injectContext } from '../kube/namespaces.ts';
import type { PolicySet } from '../policy/compile.ts';
import { readWebhookFile } from '../webhook/config-file.ts';
import { DEFAULT_EXCLUDED_NAMESPACES, deriveWebhooks } from '../webhook/derive.ts';
import { whoSends, type Sending, type WebhookView } from '../webhook/evaluate.ts';
import { documentWorkloads } from './document-workloads.ts';
import type { FlagTable } from './flags.ts';
import { OFFLINE_FLAGS, offlineSidecars, runOfflineVerb } from './offline.ts';

/** FLAGS are the flags of this verb. */
export const FLAGS = {
  ...OFFLINE_FLAGS,
  webhook: {
    type: 'string',
    arg: 'FILE',
    default: '',
    help: 'the webhook configuration the cluster runs (kubectl get\nmutatingwebhookconfiguration tandem -o yaml); by default, the one\n`tandem webhook` derives from the policies',
  },
} as const satisfies FlagTable;

const VERB = {
  name: 'explain',
  usage: `Usage: tandem explain -f FILE|- [options]

For each pod template in the manifests, says which policies would be injected and why,
and why the others would not, and whether the API server sends the pod to tandem at all.
Exit 1 if any pod that is sent would be denied.
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

function resultLine(explanation: Explanation, sending: Sending): string {
  const { result } = explanation;
  if (!sending.sent) {
    if (result.outcome === 'patched') {
      const names = result.injected.map((p) => p.name).join(', ');
      return `result: not injected: the API server does not send this pod to tandem (tandem would inject ${names})`;
    }
    if (result.outcome === 'denied') {
      return `result: admitted without tandem: the API server does not send this pod to tandem (tandem would deny it: ${result.reason})`;
    }
    return 'result: nothing to inject (the API server does not send this pod to tandem)';
  }
  if (result.outcome === 'denied') return `result: denied: ${result.reason}`;
  if (result.outcome === 'unchanged') return 'result: nothing to inject';
  return `result: inject ${result.injected.map((p) => p.name).join(', ')}`;
}

/**
 * decisionLines is one policy's decision, then every value of an injected policy and
 * where it came from: the pod, its namespace, the admin's cluster values, or the default.
 */
function decisionLines(d: PolicyDecision, explanation: Explanation): string[] {
  const values = (explanation.params?.get(d.policy) ?? []).map(
    (source) => `      ${source.name}=${quoteValue(source.value)} (${sourceText(source)})`,
  );
  return [`  ${MARK[d.decision] ?? '?'} ${d.policy}: ${d.decision} (${d.reason})`, ...values];
}

function render(name: string, explanation: Explanation, sending: Sending): string {
  const lines = [
    `${name}:`,
    ...explanation.decisions.flatMap((d) => decisionLines(d, explanation)),
  ];
  if (explanation.decisions.length === 0) lines.push('  (no policies loaded)');
  if (!sending.sent) {
    for (const reason of sending.reasons) lines.push(`  not sent to tandem: ${reason}`);
  }
  lines.push(`  ${resultLine(explanation, sending)}`);
  const { result } = explanation;
  for (const warning of sending.sent ? result.warnings : []) lines.push(`  warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}

async function webhooksFor(file: string, policies: PolicySet): Promise<WebhookView[]> {
  if (file !== '') return readWebhookFile(file);
  return deriveWebhooks(policies, { excludeNamespaces: DEFAULT_EXCLUDED_NAMESPACES });
}

/** run executes `tandem explain`. */
export function run(args: string[]): Promise<number> {
  return runOfflineVerb(VERB, args, async (input, values) => {
    const webhooks = await webhooksFor(values.webhook, input.policies);
    let denied = 0;
    let pods = 0;
    const sidecars = offlineSidecars(input.sidecarMode);
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
        const context = injectContext(input.namespaces, workload.namespace, sidecars);
        const explanation = explainPod(workload.pod, input.policies, context);
        const sending = whoSends(webhooks, {
          pod: workload.pod,
          labels: workload.pod.metadata?.labels ?? {},
          namespace: workload.namespace,
          namespaceLabels: context.namespaceLabels,
        });
        if (sending.sent && explanation.result.outcome === 'denied') denied += 1;
        const name = `${workloadName(workload.document)} (namespace ${workload.namespace})`;
        process.stdout.write(render(name, explanation, sending));
      }
    }
    if (pods === 0) process.stdout.write('no pods or pod templates found\n');
    return denied > 0 ? 1 : 0;
  });
}

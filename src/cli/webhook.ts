/**
 * `tandem webhook`: prints the MutatingWebhookConfiguration that sends tandem exactly the
 * pods the policies could want (issue 12 item 2), or, with --chart-rules, the part the
 * chart reads. `npm run webhook` writes deploy/webhook.yaml and the chart's copy with it.
 */
import { loadPolicies } from '../policy/load.ts';
import { DEFAULT_EXCLUDED_NAMESPACES, deriveWebhooks } from '../webhook/derive.ts';
import { renderChartRules, renderDeployWebhook } from '../webhook/manifest.ts';
import { reportFailure } from './failure.ts';
import { flagLines, parseFlags, type FlagTable } from './flags.ts';

/** FLAGS are the flags of this verb. */
export const FLAGS = {
  policies: { type: 'string', arg: 'DIR', default: 'policies', help: 'policies directory' },
  namespace: {
    type: 'string',
    arg: 'NS',
    default: 'tandem-system',
    help: "where tandem's Service is",
  },
  'exclude-namespaces': {
    type: 'string',
    arg: 'NS,NS',
    default: '',
    help: 'namespaces never sent, comma-separated (default: kube-system and\nthe --namespace)',
  },
  'chart-rules': {
    type: 'boolean',
    help: "print only each webhook's name, selectors and conditions, for the\nchart's webhook.rules value",
  },
} as const satisfies FlagTable;

const HELP = `Usage: tandem webhook [--policies DIR] [options]

Prints the MutatingWebhookConfiguration whose namespaceSelector, objectSelector and
matchConditions (CEL) send tandem exactly the pods that the policies in DIR could want:
those that request a policy, and those an automatic policy selects by labels or by
namespace. Apply it after every change to the policies' selector, namespaceSelector or
namespaceInjection (deploy/webhook.yaml is this output for policies/).

Options:
${flagLines(FLAGS)}`;

/** run executes `tandem webhook`. */
export async function run(args: string[]): Promise<number> {
  try {
    const { values, help } = parseFlags(FLAGS, args);
    if (help) {
      process.stdout.write(HELP);
      return 0;
    }
    const listed = values['exclude-namespaces']
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    const excluded =
      listed.length > 0
        ? listed
        : [...DEFAULT_EXCLUDED_NAMESPACES.filter((ns) => ns !== 'tandem-system'), values.namespace];
    const options = { excludeNamespaces: [...new Set(excluded)] };
    const rules = deriveWebhooks(await loadPolicies(values.policies), options);
    process.stdout.write(
      values['chart-rules']
        ? renderChartRules(rules, options)
        : renderDeployWebhook(rules, values.namespace),
    );
    return 0;
  } catch (error) {
    return reportFailure('webhook', HELP, error);
  }
}

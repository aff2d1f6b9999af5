/**
 * `tandem lint [DIR] [--pss LEVEL]`: checks a policies directory the way the webhook
 * loads it, plus the conflicts between policies, and prints one line per issue in the
 * `file:line:column:` form that editors and CI annotations understand.
 */
import { formatPolicyIssue, messageOf, TandemError } from '../errors.ts';
import { lintPolicies, type LintLevel } from '../policy/lint.ts';
import { readPolicyDirectory, type PolicyDirectoryResult } from '../policy/load.ts';
import type { PolicySet } from '../policy/compile.ts';
import { readWebhookFile } from '../webhook/config-file.ts';
import { DEFAULT_EXCLUDED_NAMESPACES, deriveWebhooks } from '../webhook/derive.ts';
import type { WebhookView } from '../webhook/evaluate.ts';
import { flagLines, parseFlags, type FlagTable } from './flags.ts';

/** FLAGS are the flags of this verb. */
export const FLAGS = {
  pss: {
    type: 'string',
    arg: 'LEVEL',
    help: "also check injected containers against a Pod Security Standard\n(baseline or restricted), with tandem's restricted defaults applied",
  },
  webhook: {
    type: 'string',
    arg: 'FILE',
    help: 'check reachability through the webhook configuration the cluster\nruns (kubectl get mutatingwebhookconfiguration tandem -o yaml)\ninstead of the one `tandem webhook` derives from DIR',
  },
} as const satisfies FlagTable;

const USAGE = `Usage: tandem lint [DIR] [--pss LEVEL] [--webhook FILE]

Checks the policy files in DIR (default: policies): YAML syntax, the SidecarPolicy
schema, templates and params, duplicate names, and conflicts between policies that a
pod requesting both would meet. Prints each issue as file:line:column: field: message.

It also checks that the API server can send tandem the pods each policy wants, through
the webhook configuration \`tandem webhook\` derives from DIR, or through the one given
with --webhook: a policy no pod can reach is an issue at the field that makes it so.

Options:
${flagLines(FLAGS)}
Exit status: 0 when clean, 1 when there are issues, 2 on a usage error.
`;

const LEVELS: readonly LintLevel[] = ['baseline', 'restricted'];

function isLevel(value: string): value is LintLevel {
  return (LEVELS as readonly string[]).includes(value);
}

function usageError(message: string): number {
  process.stderr.write(`tandem lint: ${message}\n\n${USAGE}`);
  return 2;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** reachThrough is the webhook configuration to check reachability against. */
async function reachThrough(
  file: string | undefined,
  policies: PolicySet,
): Promise<{ webhooks: WebhookView[]; source: string }> {
  if (file !== undefined) return { webhooks: await readWebhookFile(file), source: file };
  const webhooks = deriveWebhooks(policies, { excludeNamespaces: DEFAULT_EXCLUDED_NAMESPACES });
  return { webhooks, source: 'the webhook configuration derived from the policies' };
}

/** LintArgs are the checked command line, or the exit code when it asks for none. */
type LintArgs =
  | { readonly dir: string; readonly pss: LintLevel | undefined; readonly webhook?: string }
  | { readonly exit: number };

/** lintArgs checks the command line: at most one directory, a known --pss level. */
function lintArgs(args: string[]): LintArgs {
  let parsed;
  try {
    parsed = parseFlags(FLAGS, args, { positionals: true });
  } catch (error) {
    return { exit: usageError(messageOf(error)) };
  }
  const { values, positionals } = parsed;
  if (parsed.help) {
    process.stdout.write(USAGE);
    return { exit: 0 };
  }
  if (positionals.length > 1) return { exit: usageError('give at most one directory') };
  const pss = values.pss;
  if (pss !== undefined && !isLevel(pss)) {
    return { exit: usageError(`--pss must be baseline or restricted, not "${pss}"`) };
  }
  const dir = positionals[0] ?? 'policies';
  return values.webhook === undefined ? { dir, pss } : { dir, pss, webhook: values.webhook };
}

/** readDirectory loads DIR, or the exit code when DIR cannot be read (a wrong argument). */
async function readDirectory(dir: string): Promise<PolicyDirectoryResult | { exit: number }> {
  try {
    return await readPolicyDirectory(dir);
  } catch (error) {
    // A directory that cannot be read is a wrong argument, not a policy problem.
    if (error instanceof TandemError && error.code === 'TANDEM_ERR_POLICY_LOAD') {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      process.stderr.write(`tandem lint: ${error.message}${cause}\n`);
      return { exit: 2 };
    }
    throw error;
  }
}

/** okLine is what a clean lint prints: the policies, and the cluster values if any. */
function okLine(set: PolicySet): string {
  let clusterValues = 0;
  for (const params of set.clusterValues.values()) clusterValues += params.size;
  const withValues =
    clusterValues === 0 ? '' : ` (${plural(clusterValues, 'cluster value', 'cluster values')})`;
  return `${plural(set.byName.size, 'policy', 'policies')} OK${withValues}\n`;
}

/** run executes `tandem lint` and returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const checked = lintArgs(args);
  if ('exit' in checked) return checked.exit;
  const { dir, pss } = checked;
  const result = await readDirectory(dir);
  if ('exit' in result) return result.exit;
  let reach;
  try {
    reach = await reachThrough(checked.webhook, result.set);
  } catch (error) {
    if (error instanceof TandemError) return usageError(error.message);
    throw error;
  }
  const issues = lintPolicies(result, pss === undefined ? { reach } : { pss, reach });
  for (const issue of issues) process.stdout.write(`${formatPolicyIssue(issue)}\n`);
  if (issues.length > 0) {
    process.stderr.write(`${plural(issues.length, 'problem', 'problems')} in ${dir}\n`);
    return 1;
  }
  process.stdout.write(okLine(result.set));
  return 0;
}

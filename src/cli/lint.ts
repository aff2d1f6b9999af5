/**
 * `tandem lint [DIR] [--pss LEVEL]`: checks a policies directory the way the webhook
 * loads it, plus the conflicts between policies, and prints one line per issue in the
 * `file:line:column:` form that editors and CI annotations understand.
 */
import { parseArgs } from 'node:util';
import { formatPolicyIssue, messageOf, TandemError } from '../errors.ts';
import { lintPolicies, type LintLevel } from '../policy/lint.ts';
import { readPolicyDirectory } from '../policy/load.ts';

const USAGE = `Usage: tandem lint [DIR] [--pss LEVEL]

Checks the policy files in DIR (default: policies): YAML syntax, the SidecarPolicy
schema, templates and params, duplicate names, and conflicts between policies that a
pod requesting both would meet. Prints each issue as file:line:column: field: message.

Options:
  --pss LEVEL  also check injected containers against a Pod Security Standard
               (baseline or restricted), with tandem's restricted defaults applied
  -h, --help   show this help

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

/** run executes `tandem lint` and returns the exit code. */
export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { pss: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    return usageError(messageOf(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 1) return usageError('give at most one directory');
  const pss = values.pss;
  if (pss !== undefined && !isLevel(pss)) {
    return usageError(`--pss must be baseline or restricted, not "${pss}"`);
  }
  const dir = positionals[0] ?? 'policies';
  let result;
  try {
    result = await readPolicyDirectory(dir);
  } catch (error) {
    // A directory that cannot be read is a wrong argument, not a policy problem.
    if (error instanceof TandemError && error.code === 'TANDEM_ERR_POLICY_LOAD') {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      process.stderr.write(`tandem lint: ${error.message}${cause}\n`);
      return 2;
    }
    throw error;
  }
  const issues = lintPolicies(result, pss === undefined ? {} : { pss });
  for (const issue of issues) process.stdout.write(`${formatPolicyIssue(issue)}\n`);
  if (issues.length > 0) {
    process.stderr.write(`${plural(issues.length, 'problem', 'problems')} in ${dir}\n`);
    return 1;
  }
  process.stdout.write(`${plural(result.set.byName.size, 'policy', 'policies')} OK\n`);
  return 0;
}

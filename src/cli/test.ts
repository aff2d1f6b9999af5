/**
 * `tandem test [DIR...]`: runs policy authors' cases, as `kyverno test` does for Kyverno
 * policies. Every folder under each DIR holding a `pod.yaml` is a case (test-case.ts has
 * the format); each prints PASS or FAIL with every reason, and the exit code is 1 when
 * one fails. `--update` writes the expected files from what the engine does.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { PolicyInvalidError, TandemError } from '../errors.ts';
import { readPolicyFiles } from '../policy/load.ts';
import { reportFailure } from './failure.ts';
import { flagLines, parseFlags, type FlagTable } from './flags.ts';
import { findCases, runCase, type CaseResult } from './test-case.ts';
import { SIDECAR_MODES, parseSidecarModeSetting } from '../sidecar-mode.ts';

/** FLAGS are the flags of this verb. */
export const FLAGS = {
  policies: {
    type: 'string',
    arg: 'DIR',
    default: 'policies',
    help: "policies directory; a case's own policies.yaml is loaded beside it",
  },
  'sidecar-mode': {
    type: 'string',
    arg: 'MODE',
    default: 'native',
    help: 'native or classic, for cases whose context.yaml names none',
  },
  update: {
    type: 'boolean',
    help: "write each failing case's expected files from what the engine does,\ninstead of failing it",
  },
} as const satisfies FlagTable;

const HELP = `Usage: tandem test [DIR...] [options]

Runs every test case under each DIR (default: .). A case is a folder holding:
  pod.yaml                the input: one Pod or workload
  policies.yaml           (optional) policies of the case, beside --policies DIR
  context.yaml            (optional) namespaceLabels: {...}, kubernetesVersion: "1.28",
                          sidecarMode: native|classic
  expected.yaml           the object after injection (the input when nothing applies), or
  expected.denied.txt     text the denial must contain
  expected.patch.json     (optional) the exact JSON Patch
  expected.warnings.json  (optional) the exact warnings

Options:
${flagLines(FLAGS)}
Exit status: 0 when every case passes, 1 when one fails, 2 on a usage error.
`;

function report(result: CaseResult): void {
  if (result.updated) process.stdout.write(`UPDATED ${result.name}\n`);
  else if (result.problems.length === 0) process.stdout.write(`PASS ${result.name}\n`);
  else process.stdout.write(`FAIL ${result.name}\n`);
  for (const problem of result.problems) process.stdout.write(`    ${problem}\n`);
}

function caseName(root: string, dir: string): string {
  const relative = path.relative(root, dir);
  return relative === '' ? root : path.join(root, relative);
}

/** findAllCases lists the cases under each root, which must be directories holding some. */
function findAllCases(roots: readonly string[]): { root: string; dir: string }[] {
  for (const root of roots) {
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      throw new TandemError('TANDEM_ERR_CONFIG', `${root} is not a directory`);
    }
  }
  const cases = roots.flatMap((root) => findCases(root).map((dir) => ({ root, dir })));
  if (cases.length === 0) {
    throw new TandemError(
      'TANDEM_ERR_INPUT',
      `no test cases (folders with pod.yaml) under ${roots.join(', ')}`,
    );
  }
  return cases;
}

/** summarize prints the tally line and returns the exit code: 1 when a case failed. */
function summarize(results: readonly CaseResult[]): number {
  const failed = results.filter((r) => r.problems.length > 0 && !r.updated).length;
  const updated = results.filter((r) => r.updated).length;
  const summary = [`${results.length - failed - updated} passed`, `${failed} failed`];
  if (updated > 0) summary.push(`${updated} updated`);
  process.stdout.write(`\n${results.length} cases: ${summary.join(', ')}\n`);
  return failed > 0 ? 1 : 0;
}

/** run executes `tandem test`. */
export async function run(args: string[]): Promise<number> {
  try {
    const { values, positionals, help } = parseFlags(FLAGS, args, { positionals: true });
    if (help) {
      process.stdout.write(HELP);
      return 0;
    }
    const sidecarMode = parseSidecarModeSetting(values['sidecar-mode'], SIDECAR_MODES);
    const read = await readPolicyFiles(values.policies);
    if (read.issues.length > 0) throw new PolicyInvalidError(read.issues);
    const cases = findAllCases(positionals.length === 0 ? ['.'] : positionals);
    const settings = { policyFiles: read.files, sidecarMode };
    const results = cases.map(({ root, dir }) =>
      runCase(dir, caseName(root, dir), settings, values.update),
    );
    results.forEach(report);
    return summarize(results);
  } catch (error) {
    return reportFailure('test', HELP, error);
  }
}

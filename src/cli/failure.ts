/**
 * reportFailure turns an error that ends a verb into what a shell user expects: a line on
 * standard error and an exit code (2 for usage and configuration, 1 for anything else
 * tandem expected). Errors tandem did not expect are bugs and are thrown on.
 */
import { PolicyInvalidError, TandemError, formatPolicyIssue } from '../errors.ts';

function isUsageError(error: unknown): error is TypeError {
  // node:util parseArgs signals unknown or malformed flags with ERR_PARSE_ARGS_* codes.
  return (
    error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')
  );
}

/** reportFailure prints `error` for `tandem <verb>` and returns the exit code. */
export function reportFailure(verb: string, help: string, error: unknown): number {
  if (error instanceof PolicyInvalidError) {
    process.stderr.write(`tandem ${verb}: the policies have problems:\n`);
    for (const issue of error.issues) process.stderr.write(`  ${formatPolicyIssue(issue)}\n`);
    return 1;
  }
  if (error instanceof TandemError) {
    process.stderr.write(`tandem ${verb}: ${error.message}\n`);
    return error.code === 'TANDEM_ERR_CONFIG' ? 2 : 1;
  }
  if (isUsageError(error)) {
    process.stderr.write(`tandem ${verb}: ${error.message}\n\n${help}`);
    return 2;
  }
  throw error;
}

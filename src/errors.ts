/**
 * Error classes with stable codes. Callers decide by `code` or class, never by
 * message text. Expected outcomes (a denied pod) are values, not errors: these are
 * for bad configuration, I/O and bugs, and they keep their cause.
 */

/** ERROR_CODES lists every code tandem throws with; README "Error and denial codes" explains each. */
export const ERROR_CODES = [
  'TANDEM_ERR_POLICY_LOAD',
  'TANDEM_ERR_POLICY_INVALID',
  'TANDEM_ERR_CONFIG',
  'TANDEM_ERR_TLS',
  'TANDEM_ERR_INPUT',
  'TANDEM_ERR_CLUSTER',
] as const;

/** ErrorCode is one of ERROR_CODES. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** TandemError is the base of every error tandem throws on purpose. */
export class TandemError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TandemError';
    this.code = code;
  }
}

/** PolicyIssue is one problem in a policy file, located as precisely as the YAML allows. */
export interface PolicyIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** fieldPath in dotted form with list indexes, e.g. `spec.containers[0].image`. */
  readonly fieldPath: string;
  readonly message: string;
}

/** formatPolicyIssue renders an issue as `file:line:column: field: message`. */
export function formatPolicyIssue(issue: PolicyIssue): string {
  const field = issue.fieldPath === '' ? '' : `${issue.fieldPath}: `;
  return `${issue.file}:${issue.line}:${issue.column}: ${field}${issue.message}`;
}

/**
 * PolicyInvalidError (TANDEM_ERR_POLICY_INVALID) carries every issue found in a policies
 * directory, not just the first. A directory that cannot be read at all is a TandemError
 * with TANDEM_ERR_POLICY_LOAD: it has no issues to list, only a cause.
 */
export class PolicyInvalidError extends TandemError {
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[], options?: ErrorOptions) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(
      'TANDEM_ERR_POLICY_INVALID',
      `policies have ${count}:\n${issues.map(formatPolicyIssue).join('\n')}`,
      options,
    );
    this.name = 'PolicyInvalidError';
    this.issues = issues;
  }
}

/**
 * messageOf is an error's message, for anything a `catch` can receive: a thrown value
 * need not be an Error (a library may throw a string), and `(error as Error).message`
 * would then print `undefined`.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** STUB: the loader is being written; the signatures are final. */
import type { PolicyIssue } from '../errors.ts';
import type { PolicySet } from './compile.ts';

/** PolicyDirectoryResult is every policy that loaded and every issue found. */
export interface PolicyDirectoryResult {
  readonly set: PolicySet;
  readonly issues: readonly PolicyIssue[];
}

/** readPolicyDirectory loads every *.yaml/*.yml file of `dir`, collecting all issues. */
export async function readPolicyDirectory(_dir: string): Promise<PolicyDirectoryResult> {
  return Promise.resolve({ set: { byName: new Map(), automatic: [] }, issues: [] });
}

/** loadPolicies loads `dir` and throws PolicyLoadError listing every issue, if any. */
export async function loadPolicies(dir: string): Promise<PolicySet> {
  const result = await readPolicyDirectory(dir);
  return result.set;
}

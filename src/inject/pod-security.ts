/**
 * Pod Security Standards for injected containers. STUB: the real checker is being
 * written; keep the exported signatures.
 */
import type { V1Container, V1Volume } from '@kubernetes/client-node';

/** PodSecurityLevel is a Pod Security Standard level. */
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

/** PodSecurityViolation is one rule of a level that an injected container breaks. */
export interface PodSecurityViolation {
  readonly container: string | undefined;
  /** rule is the PSS control's name, e.g. `allowPrivilegeEscalation`, `capabilities`. */
  readonly rule: string;
  readonly message: string;
}

/** checkPodSecurity lists what the injected containers and volumes break at `level`. */
export function checkPodSecurity(
  _injected: { readonly containers: readonly V1Container[]; readonly volumes: readonly V1Volume[] },
  _level: PodSecurityLevel,
): PodSecurityViolation[] {
  return [];
}

/**
 * Why a pod is denied, as a stable code beside the message. The message is for the pod's
 * author and may be reworded; the code is what tests, the `tandem_denials_total` metric,
 * the log line and the answer's `status.details` decide by (README, "Error and denial
 * codes"). Codes are few on purpose: a metric label's values must stay bounded.
 */

/** DENIAL_CODES lists every code a denial may carry. */
export const DENIAL_CODES = [
  'AnnotationsTooLarge',
  'TooManyPolicies',
  'TooManyTargetContainers',
  'StatusTooLarge',
  'StatusInvalid',
  'UnknownPolicy',
  'NamespaceNotAllowed',
  'WindowsPod',
  'HostNetworkPod',
  'ParamMissing',
  'ParamTooLong',
  'ParamInvalid',
  'ParamNotAllowed',
  'TargetContainersEmpty',
  'TargetContainerUnknown',
  'NameClash',
  'VolumeMissing',
  'MountClash',
  'PortOutOfRange',
  'PortClash',
  'PodSecurity',
  'StatusWouldNotFit',
] as const;

/** DenialCode is the stable reason a pod is denied. */
export type DenialCode = (typeof DENIAL_CODES)[number];

/**
 * Denial is why a pod is denied: `code` for machines, `reason` (the message) for its
 * author, and `policy`, the loaded policy the denial is about, when there is one. A name
 * the pod asks for that no policy has is not a `policy`: it is the pod's text.
 */
export interface Denial {
  readonly code: DenialCode;
  readonly reason: string;
  readonly policy?: string;
}

/** denial builds a Denial; `policy` only when a loaded policy is the subject. */
export function denial(code: DenialCode, reason: string, policy?: string): Denial {
  return policy === undefined ? { code, reason } : { code, reason, policy };
}

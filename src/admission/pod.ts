/**
 * The webhook's handler: one review request in, one answer out, no HTTP in sight (as
 * controller-runtime's `Handler.Handle`). Every lookup happens here first, namespace
 * labels and sidecar mode, and is gathered into the engine's context; then the engine,
 * the same one `tandem inject` runs, decides.
 */
import { messageOf } from '../errors.ts';
import { injectPod } from '../inject/engine.ts';
import { readPod } from '../inject/pod-shape.ts';
import type { Denial } from '../denial.ts';
import type { InjectResult } from '../inject/types.ts';
import { isJsonObject, type JsonValue } from '../json.ts';
import { injectContext, type NamespaceDirectory } from '../kube/namespaces.ts';
import type { PolicySet } from '../policy/compile.ts';
import type { SidecarSettings } from '../sidecar-mode.ts';
import { allowed, denied, errored, patched, type AdmissionAnswer } from './response.ts';
import type { AdmissionRequest } from './review.ts';

/** AdmitEnv is what the handler reads besides the request; all of it is in memory. */
export interface AdmitEnv {
  /** getPolicies returns the current set; a reload swaps it between two reviews. */
  readonly getPolicies: () => PolicySet;
  readonly namespaces: NamespaceDirectory;
  /** sidecars is the decided sidecar mode (decideSidecars), the same for every review. */
  readonly sidecars: SidecarSettings;
}

/** AdmissionResult names an outcome for logs and metrics. */
export type AdmissionResult = 'patched' | 'allowed' | 'denied' | 'errored';

/** PodAdmission is the answer and what the log line and metrics say about it. */
export interface PodAdmission {
  readonly answer: AdmissionAnswer;
  readonly result: AdmissionResult;
  /** injected names the policies the patch adds. */
  readonly injected: readonly string[];
  /** pod is the pod's name, or its generateName while the apiserver has not named it. */
  readonly pod: string;
  /** error is the bug behind an `errored` 500, for the log line's stack. */
  readonly error?: unknown;
  /** denial is why a `denied` pod was refused: its code and the policy concerned. */
  readonly denial?: Omit<Denial, 'reason'>;
}

/** INJECTED_POLICIES_AUDIT_KEY is the audit annotation naming what was injected. */
// The apiserver prefixes the key with the webhook's name, so it must be a bare name
// (`<webhook>/injected-policies` in the audit event).
export const INJECTED_POLICIES_AUDIT_KEY = 'injected-policies';

/** isPodCreate: only a Pod CREATE on the pod itself is mutated (SPEC §3 rule 6). */
export function isPodCreate(request: AdmissionRequest): boolean {
  return (
    request.operation === 'CREATE' &&
    request.subResource === undefined &&
    request.kind?.group === '' &&
    request.kind.kind === 'Pod'
  );
}

/** podName is what a log line calls the pod: its name, else its generateName. */
function podName(object: JsonValue | undefined, request: AdmissionRequest): string {
  if (request.name !== '') return request.name;
  if (!isJsonObject(object) || !isJsonObject(object['metadata'])) return '';
  const { name, generateName } = object['metadata'];
  if (typeof name === 'string' && name !== '') return name;
  return typeof generateName === 'string' ? generateName : '';
}

function answerFor(result: InjectResult): PodAdmission['answer'] {
  const { warnings } = result;
  switch (result.outcome) {
    case 'unchanged':
      return allowed({ warnings });
    case 'denied':
      return denied(result.reason, result.code, { warnings });
    case 'patched': {
      const names = result.injected.map((policy) => policy.name).join(',');
      return patched(result.patch, {
        warnings,
        auditAnnotations: { [INJECTED_POLICIES_AUDIT_KEY]: names },
      });
    }
  }
}

/**
 * admitPod answers one review request. It never throws: a pod it cannot read is
 * `errored` 400, and a bug in the engine is `errored` 500, both still answered as a
 * review so the apiserver shows the message rather than a transport failure.
 */
export function admitPod(request: AdmissionRequest, env: AdmitEnv): PodAdmission {
  const pod = podName(request.object, request);
  if (!isPodCreate(request)) return { answer: allowed(), result: 'allowed', injected: [], pod };
  const read = readPod(request.object, 'request.object');
  if (!read.ok) {
    return { answer: errored(400, read.reason), result: 'errored', injected: [], pod };
  }
  const context = injectContext(env.namespaces, request.namespace, env.sidecars);
  let result: InjectResult;
  try {
    result = injectPod(read.value, env.getPolicies(), context);
  } catch (error) {
    const message = `tandem failed on this pod: ${messageOf(error)}`;
    return { answer: errored(500, message), result: 'errored', injected: [], pod, error };
  }
  const answer = answerFor(result);
  if (result.outcome === 'denied') {
    const { code, policy } = result;
    const denial = policy === undefined ? { code } : { code, policy };
    return { answer, result: 'denied', injected: [], pod, denial };
  }
  const injected = result.outcome === 'patched' ? result.injected.map((p) => p.name) : [];
  return { answer, result: result.outcome === 'unchanged' ? 'allowed' : 'patched', injected, pod };
}

/**
 * Answers, built by outcome as controller-runtime's `response.go` does: `allowed`,
 * `denied`, `patched`, `errored`. An answer carries no uid; `encodeReview` adds the
 * request's, so no path through the server can forget to echo it.
 */
import type { Operation } from 'fast-json-patch';
import type { AdmissionVersion } from './review.ts';

/** AdmissionStatus is the `status` (a metav1.Status) of a refusal. */
export interface AdmissionStatus {
  readonly code: number;
  readonly reason?: string;
  readonly message: string;
  /** details carries a denial's stable code as its one cause's `reason`. */
  readonly details?: { readonly causes: readonly { readonly reason: string }[] };
}

/** AdmissionAnswer is an AdmissionResponse without its uid. */
export interface AdmissionAnswer {
  readonly allowed: boolean;
  readonly status?: AdmissionStatus;
  readonly patchType?: 'JSONPatch';
  /** patch is the base64 of the RFC 6902 JSON array, as the API's []byte field is encoded. */
  readonly patch?: string;
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

/** AdmissionReviewResponse is the whole body sent back. */
export interface AdmissionReviewResponse {
  readonly apiVersion: AdmissionVersion;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionAnswer & { readonly uid: string };
}

/** AnswerExtras are the optional parts every outcome may carry. */
export interface AnswerExtras {
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

// Empty lists and maps are left out rather than sent, so a plain allow stays a few bytes.
function withExtras(answer: AdmissionAnswer, extras: AnswerExtras): AdmissionAnswer {
  let result = answer;
  if (extras.warnings !== undefined && extras.warnings.length > 0) {
    result = { ...result, warnings: extras.warnings };
  }
  if (extras.auditAnnotations !== undefined && Object.keys(extras.auditAnnotations).length > 0) {
    result = { ...result, auditAnnotations: extras.auditAnnotations };
  }
  return result;
}

/** allowed lets the object through unchanged. */
export function allowed(extras: AnswerExtras = {}): AdmissionAnswer {
  return withExtras({ allowed: true }, extras);
}

/**
 * denied refuses the object. Code 403 with reason Forbidden, as controller-runtime's
 * `Denied` answers: the request was understood and is not permitted, and kubectl shows
 * the message as `admission webhook "…" denied the request: <message>`. The denial's
 * code goes in `status.details.causes[0].reason`, which the apiserver passes on to the
 * client unchanged (a StatusError keeps the webhook's whole status), while `reason`
 * stays Forbidden so that clients' `IsForbidden` checks still hold.
 */
export function denied(message: string, code: string, extras: AnswerExtras = {}): AdmissionAnswer {
  const status = {
    code: 403,
    reason: 'Forbidden',
    message,
    details: { causes: [{ reason: code }] },
  };
  return withExtras({ allowed: false, status }, extras);
}

/**
 * patched lets the object through with a JSON Patch. An empty patch is a plain allow:
 * the apiserver would accept `[]`, but a patchType with nothing to apply says a mutation
 * happened when none did.
 */
export function patched(patch: readonly Operation[], extras: AnswerExtras = {}): AdmissionAnswer {
  if (patch.length === 0) return allowed(extras);
  const encoded = Buffer.from(JSON.stringify(patch)).toString('base64');
  return withExtras({ allowed: true, patchType: 'JSONPatch', patch: encoded }, extras);
}

/**
 * errored refuses the object because the review could not be handled: 400 when the
 * request is at fault (its object is not a pod), 500 for a bug in tandem. Refusing, not
 * allowing, is what controller-runtime's `Errored` does: a pod that was meant to get its
 * sidecars must not start without them and without anyone noticing.
 */
export function errored(code: 400 | 500, message: string): AdmissionAnswer {
  const reason = code === 400 ? 'BadRequest' : 'InternalError';
  return { allowed: false, status: { code, reason, message } };
}

/** encodeReview wraps an answer for the request `uid`, in the version the request used. */
export function encodeReview(
  apiVersion: AdmissionVersion,
  uid: string,
  answer: AdmissionAnswer,
): AdmissionReviewResponse {
  return { apiVersion, kind: 'AdmissionReview', response: { uid, ...answer } };
}

/** REVIEW_CONTENT_TYPE is the answer's content type, set with the text encodeReviewJson writes. */
export const REVIEW_CONTENT_TYPE = 'application/json; charset=utf-8';

/** ReviewJsonParts is an answer's JSON text before and after the value of its uid. */
export interface ReviewJsonParts {
  readonly head: string;
  readonly tail: string;
}

/**
 * encodeReviewParts is encodeReview's JSON text, written once and cut where the uid's
 * value goes, so one answer serves every request that gets it (the answer cache).
 * Handed to fastify as a string with its content type, the answer is not stringified a
 * second time, and the patch's base64 (A-Z, a-z, 0-9, `+`, `/`, `=`: nothing JSON
 * escapes) goes in as it is instead of being scanned for characters to escape.
 */
export function encodeReviewParts(
  apiVersion: AdmissionVersion,
  answer: AdmissionAnswer,
): ReviewJsonParts {
  const { patch, ...rest } = answer;
  const text = JSON.stringify(encodeReview(apiVersion, '', rest));
  // The uid is the response's first field: its empty value is the first `""` after
  // `"uid":`, as nothing before it (version and kind) can hold that text.
  const at = text.indexOf('"uid":""') + '"uid":"'.length;
  const head = text.slice(0, at);
  const tail = text.slice(at);
  if (patch === undefined) return { head, tail };
  // The text ends with the response's and the review's closing braces.
  return { head, tail: `${tail.slice(0, -2)},"patch":"${patch}"}}` };
}

/** joinReview is the answer's text for the request `uid`. */
export function joinReview(parts: ReviewJsonParts, uid: string): string {
  return parts.head + JSON.stringify(uid).slice(1, -1) + parts.tail;
}

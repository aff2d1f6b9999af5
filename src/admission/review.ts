/**
 * The AdmissionReview wire format, as the apiserver sends it: the versions tandem speaks,
 * the parts of a request it reads, and `parseReview`, which tells a review from any other
 * JSON. Answers are built in response.ts; what to answer is decided in pod.ts.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';

/** ADMISSION_VERSIONS are the AdmissionReview apiVersions tandem answers, each in its own. */
export const ADMISSION_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;

/** AdmissionVersion is one of ADMISSION_VERSIONS. */
export type AdmissionVersion = (typeof ADMISSION_VERSIONS)[number];

/** GroupVersionKind is `request.kind`: what the object is. */
export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** AdmissionRequest is the part of `request` tandem reads; the rest is ignored. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind | undefined;
  /** operation is CREATE, UPDATE, DELETE or CONNECT. */
  readonly operation: string;
  /** subResource is set for e.g. `pods/binding` or `pods/eviction`: not a pod create. */
  readonly subResource: string | undefined;
  /** namespace of the request: a pod a ReplicaSet creates has no metadata.namespace yet. */
  readonly namespace: string;
  /** name of the object, often empty on CREATE (generateName). */
  readonly name: string;
  readonly dryRun: boolean;
  readonly object: JsonValue | undefined;
}

/** AdmissionReviewRequest is a parsed review: the version it came in, and its request. */
export interface AdmissionReviewRequest {
  readonly apiVersion: AdmissionVersion;
  readonly request: AdmissionRequest;
}

/** ParseResult is a review, or the reason the body is not one (answered with HTTP 400). */
export type ParseResult =
  | { readonly ok: true; readonly review: AdmissionReviewRequest }
  | { readonly ok: false; readonly message: string };

function isAdmissionVersion(value: unknown): value is AdmissionVersion {
  return value === ADMISSION_VERSIONS[0] || value === ADMISSION_VERSIONS[1];
}

function stringField(object: JsonObject, key: string): string {
  const value = object[key];
  return typeof value === 'string' ? value : '';
}

function readKind(value: JsonValue | undefined): GroupVersionKind | undefined {
  if (!isJsonObject(value)) return undefined;
  return {
    group: stringField(value, 'group'),
    version: stringField(value, 'version'),
    kind: stringField(value, 'kind'),
  };
}

/**
 * parseReview reads a decoded JSON body as an AdmissionReview. It fails only when no
 * answer could be addressed: no known apiVersion, no `request`, or no `request.uid`
 * (the apiserver rejects a response whose uid does not match its request). Everything
 * else a request lacks is the pod handler's business, answered inside a review.
 */
export function parseReview(body: unknown): ParseResult {
  if (!isJsonObject(body)) return { ok: false, message: 'the body is not a JSON object' };
  if (body['kind'] !== 'AdmissionReview') {
    return { ok: false, message: 'the body is not an AdmissionReview (kind)' };
  }
  const apiVersion = body['apiVersion'];
  if (!isAdmissionVersion(apiVersion)) {
    return {
      ok: false,
      message: `apiVersion must be one of ${ADMISSION_VERSIONS.join(', ')}, not ${JSON.stringify(apiVersion ?? null)}`,
    };
  }
  const request = body['request'];
  if (!isJsonObject(request)) return { ok: false, message: 'the review has no request' };
  const uid = request['uid'];
  if (typeof uid !== 'string' || uid === '') {
    return { ok: false, message: 'the review has no request.uid' };
  }
  const subResource = stringField(request, 'subResource');
  return {
    ok: true,
    review: {
      apiVersion,
      request: {
        uid,
        kind: readKind(request['kind']),
        operation: stringField(request, 'operation'),
        subResource: subResource === '' ? undefined : subResource,
        namespace: stringField(request, 'namespace'),
        name: stringField(request, 'name'),
        dryRun: request['dryRun'] === true,
        object: request['object'],
      },
    },
  };
}

/**
 * One answered review, as the route records it: the answer's text, and what the log line
 * and the metrics say about it. It comes from the engine (admitReview) or from the
 * answer cache (answer-cache.ts), and the route treats both alike.
 */
import type { Logger } from 'pino';
import { admitPod, type AdmissionResult, type AdmitEnv } from '../admission/pod.ts';
import { encodeReviewParts, errored, type ReviewJsonParts } from '../admission/response.ts';
import type { AdmissionRequest, AdmissionVersion } from '../admission/review.ts';
import type { Denial } from '../denial.ts';

/**
 * AdmissionOutcome is an answered review but for its uid: what a cached answer keeps,
 * since every review that shares it differs only there.
 */
export interface AdmissionOutcome {
  /** json is the answer's text around the uid's value (joinReview), in `apiVersion`. */
  readonly json: ReviewJsonParts;
  readonly apiVersion: AdmissionVersion;
  readonly result: AdmissionResult;
  readonly injected: readonly string[];
  readonly pod: string;
  readonly namespace: string;
  readonly dryRun: boolean;
  readonly denial: Omit<Denial, 'reason'> | undefined;
  /** message is what a refused pod's author saw. */
  readonly message: string | undefined;
}

/** AdmissionSummary is one answered review. */
export interface AdmissionSummary extends AdmissionOutcome {
  readonly uid: string;
  /** cached says the answer came from the answer cache. */
  readonly cached: boolean;
  /** error is the bug behind an `errored` 500, for the log line's stack. */
  readonly error?: unknown;
}

/** admitReview runs the admission of one parsed review; it never throws. */
export function admitReview(
  apiVersion: AdmissionVersion,
  request: AdmissionRequest,
  env: AdmitEnv,
): AdmissionSummary {
  let admission: ReturnType<typeof admitPod>;
  try {
    admission = admitPod(request, env);
  } catch (error) {
    // admitPod answers its own failures; this is the last guard that still echoes the uid.
    admission = {
      answer: errored(500, 'tandem failed on this review'),
      result: 'errored',
      injected: [],
      pod: '',
      error,
    };
  }
  return {
    json: encodeReviewParts(apiVersion, admission.answer),
    apiVersion,
    uid: request.uid,
    result: admission.result,
    injected: admission.injected,
    pod: admission.pod,
    namespace: request.namespace,
    dryRun: request.dryRun,
    denial: admission.denial,
    message: admission.answer.status?.message,
    cached: false,
    error: admission.error,
  };
}

/**
 * logAdmission writes the one line per admission: info, or warn for an errored one. A
 * denial adds its code (what to search and alert on) and the message the author saw.
 */
export function logAdmission(logger: Logger, summary: AdmissionSummary, durationMs: number): void {
  const line = {
    uid: summary.uid,
    namespace: summary.namespace,
    pod: summary.pod,
    policies: summary.injected,
    result: summary.result,
    durationMs,
    dryRun: summary.dryRun,
    cached: summary.cached,
  };
  if (summary.result === 'errored') {
    logger.warn({ ...line, message: summary.message, err: summary.error }, 'admission');
  } else if (summary.denial !== undefined) {
    const { code, policy } = summary.denial;
    logger.info({ ...line, reason: code, policy, message: summary.message }, 'admission');
  } else {
    logger.info(line, 'admission');
  }
}

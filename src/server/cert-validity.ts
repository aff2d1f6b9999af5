/**
 * Whether a certificate may replace the one being served, judged by validity periods
 * alone. Every verifying client (the apiserver checks the caBundle it was given) refuses
 * a certificate whose notBefore..notAfter does not cover its clock, so swapping such a
 * certificate in over a working one fails every new handshake (issue 9). Pure: the
 * caller reads the clock.
 */
import type { X509Certificate } from 'node:crypto';

/** ValidityPeriod is a certificate's notBefore and notAfter, in ms since the epoch. */
export interface ValidityPeriod {
  readonly notBefore: number;
  readonly notAfter: number;
}

/** ValidityState is where `now` falls against a period. */
export type ValidityState = 'valid' | 'not yet valid' | 'expired';

/** ReplacementVerdict says whether to serve a new certificate, and why not. */
export type ReplacementVerdict =
  { readonly replace: true } | { readonly replace: false; readonly reason: string };

/** validityPeriodOf reads a certificate's period. */
export function validityPeriodOf(certificate: X509Certificate): ValidityPeriod {
  return {
    notBefore: certificate.validFromDate.getTime(),
    notAfter: certificate.validToDate.getTime(),
  };
}

/** validityAt places `now` against the period; both ends are inclusive, as in RFC 5280. */
export function validityAt(period: ValidityPeriod, now: number): ValidityState {
  if (now < period.notBefore) return 'not yet valid';
  if (now > period.notAfter) return 'expired';
  return 'valid';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * judgeReplacement decides whether `next` may replace `serving` at `now`:
 * - a certificate valid now always may;
 * - an expired one never may: it can serve no verifying client, now or later;
 * - one not valid yet may only when the served one fails every handshake too and will
 *   not start working sooner: it starts working by itself at its notBefore (a renewal
 *   issued by a clock a little ahead of ours), where an expired one never does.
 * A refused certificate is judged again on later checks, so one that was refused as not
 * yet valid is served once its notBefore has passed.
 */
export function judgeReplacement(
  serving: ValidityPeriod,
  next: ValidityPeriod,
  now: number,
): ReplacementVerdict {
  const state = validityAt(next, now);
  if (state === 'valid') return { replace: true };
  if (state === 'expired') {
    return { replace: false, reason: `the new certificate expired at ${iso(next.notAfter)}` };
  }
  const servingState = validityAt(serving, now);
  if (servingState === 'expired') return { replace: true };
  if (servingState === 'not yet valid' && next.notBefore <= serving.notBefore) {
    return { replace: true };
  }
  return {
    replace: false,
    reason: `the new certificate is not valid until ${iso(next.notBefore)}`,
  };
}

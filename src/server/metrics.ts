/**
 * The webhook's Prometheus metrics. Label children are created once, up front or when a
 * policy first appears, so that counting an admission is a map lookup and an increment:
 * prom-client hashes the label values on every `labels()` call otherwise.
 */
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { AdmissionResult } from '../admission/pod.ts';
import type { DenialCode } from '../denial.ts';
import type { ConnectionShed } from './connections.ts';

const RESULTS: readonly AdmissionResult[] = ['patched', 'allowed', 'denied', 'errored'];

/** RejectedStatus is an HTTP status tandem answers without a review: the body was unusable. */
export type RejectedStatus = 400 | 413 | 415 | 500;

const REJECTED: readonly RejectedStatus[] = [400, 413, 415, 500];

/** ServerMetrics is what the server and the reloaders count. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** recordAdmission counts one answered review and its latency. */
  recordAdmission(result: AdmissionResult, dryRun: boolean, seconds: number): void;
  /** recordCacheHit counts a review answered from the answer cache. */
  recordCacheHit(): void;
  /** recordInjections counts each policy in one patch. */
  recordInjections(policies: readonly string[], dryRun: boolean): void;
  /** recordDenial counts a denied pod by the policy concerned ('' for none) and code. */
  recordDenial(policy: string, code: DenialCode, dryRun: boolean): void;
  /** recordRejected counts a body that got an HTTP error instead of a review. */
  recordRejected(status: RejectedStatus): void;
  /** recordPolicyReload counts a reload and, when good, sets the loaded gauge. */
  recordPolicyReload(outcome: 'success' | 'failure', loaded?: number): void;
  /** recordPoliciesLoaded sets the loaded gauge; the start-up load is not a reload. */
  recordPoliciesLoaded(loaded: number): void;
  /** recordTlsReload counts a certificate reload. */
  recordTlsReload(outcome: 'success' | 'failure'): void;
  /** recordConnectionShed counts a connection closed by the connection budget. */
  recordConnectionShed(reason: ConnectionShed): void;
  /** recordCertificate sets the served certificate's notAfter, in ms since the epoch. */
  recordCertificate(notAfterMs: number): void;
  /** recordPoliciesServed stamps the time a policy set (start-up or reload) began serving. */
  recordPoliciesServed(atMs: number): void;
}

type Inc = { inc(): void };

/** zeroed: a child that shows 0 from the first scrape, so rates work before the first event. */
function zeroed<T extends { inc(value?: number): void }>(child: T): T {
  child.inc(0);
  return child;
}

function dryRunLabel(dryRun: boolean): 'true' | 'false' {
  return dryRun ? 'true' : 'false';
}

/** BuildInfo labels `tandem_build_info`. */
export interface BuildInfo {
  readonly version: string;
}

/** createMetrics registers tandem's metrics and the default process metrics in `registry`. */
export function createMetrics(registry: Registry, build: BuildInfo): ServerMetrics {
  collectDefaultMetrics({ register: registry });
  // A constant 1 whose labels say what runs: dashboards join on it, alerts name the version.
  new Gauge({
    name: 'tandem_build_info',
    help: "tandem's version and the Node.js version it runs on; always 1.",
    labelNames: ['version', 'node_version'] as const,
    registers: [registry],
  }).set({ version: build.version, node_version: process.versions.node }, 1);
  const certificateNotAfter = new Gauge({
    name: 'tandem_certificate_not_after_seconds',
    help: 'When the served certificate expires, in seconds since the epoch.',
    registers: [registry],
  });
  const policiesServedAt = new Gauge({
    name: 'tandem_policy_last_reload_success_timestamp_seconds',
    help: 'When the policy set being served was loaded (at start-up or by a good reload), in seconds since the epoch.',
    registers: [registry],
  });
  const admissions = new Counter({
    name: 'tandem_admissions_total',
    help: 'Admission reviews answered, by result and by whether the request was a dry run.',
    labelNames: ['result', 'dry_run'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tandem_admission_duration_seconds',
    help: 'Time from a review request to its answer, by result.',
    labelNames: ['result'] as const,
    // Admission is in-memory work: most answers take well under a millisecond; the top
    // buckets are there to show trouble long before the apiserver's timeout (10 s default).
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const cacheHits = new Counter({
    name: 'tandem_answer_cache_hits_total',
    help: 'Reviews answered from the answer cache (the same review as an earlier one but for its uid), also counted in tandem_admissions_total.',
    registers: [registry],
  });
  const injections = new Counter({
    name: 'tandem_injections_total',
    help: 'Policies injected into pods, by policy and by whether the request was a dry run.',
    labelNames: ['policy', 'dry_run'] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'tandem_rejected_requests_total',
    help: 'Requests to /mutate answered with an HTTP error instead of a review, by status.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const policyReloads = new Counter({
    name: 'tandem_policy_reloads_total',
    help: 'Policy directory reloads, by outcome; a failed one keeps the last good set.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const policiesLoaded = new Gauge({
    name: 'tandem_policies_loaded',
    help: 'Policies in the set the webhook currently serves.',
    registers: [registry],
  });
  const tlsReloads = new Counter({
    name: 'tandem_tls_reloads_total',
    help: 'Certificate reloads, by outcome; a failed one keeps serving the previous pair.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  // [result] → [not dry run, dry run]: no string is built per admission.
  const admissionChildren = new Map<AdmissionResult, readonly [Inc, Inc]>(
    RESULTS.map((result) => [
      result,
      [zeroed(admissions.labels(result, 'false')), zeroed(admissions.labels(result, 'true'))],
    ]),
  );
  const durationChildren = new Map<AdmissionResult, { observe(value: number): void }>(
    RESULTS.map((result) => {
      duration.zero({ result });
      return [result, duration.labels(result)];
    }),
  );
  const rejectedChildren = new Map<RejectedStatus, Inc>(
    REJECTED.map((status) => [status, zeroed(rejected.labels(String(status)))]),
  );
  const reloadChildren = {
    success: zeroed(policyReloads.labels('success')),
    failure: zeroed(policyReloads.labels('failure')),
  };
  const tlsChildren = {
    success: zeroed(tlsReloads.labels('success')),
    failure: zeroed(tlsReloads.labels('failure')),
  };
  const injectionChildren = new Map<string, Inc>();
  const denials = new Counter({
    name: 'tandem_denials_total',
    help: 'Pods denied, by the policy concerned (empty when the denial is about no loaded policy), by stable reason code and by whether the request was a dry run.',
    labelNames: ['policy', 'reason', 'dry_run'] as const,
    registers: [registry],
  });
  const denialChildren = new Map<string, Inc>();
  const shed = new Counter({
    name: 'tandem_connections_shed_total',
    help: 'Connections closed at the connection cap: evicted (the quietest idle one made room) or refused (none was idle).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const shedChildren = {
    evicted: zeroed(shed.labels('evicted')),
    refused: zeroed(shed.labels('refused')),
  };

  return {
    registry,
    recordAdmission(result, dryRun, seconds) {
      admissionChildren.get(result)?.[dryRun ? 1 : 0].inc();
      durationChildren.get(result)?.observe(seconds);
    },
    recordCacheHit() {
      cacheHits.inc();
    },
    recordInjections(policies, dryRun) {
      for (const policy of policies) {
        const key = `${policy}/${dryRun}`;
        let child = injectionChildren.get(key);
        if (child === undefined) {
          // Policy names are bounded by the policies directory, so this map is too.
          child = injections.labels(policy, dryRunLabel(dryRun));
          injectionChildren.set(key, child);
        }
        child.inc();
      }
    },
    recordDenial(policy, code, dryRun) {
      const key = `${policy}/${code}/${dryRun}`;
      let child = denialChildren.get(key);
      if (child === undefined) {
        // Bounded: policy names by the policies directory, codes by DENIAL_CODES. A name
        // the pod asked for that no policy has is never a label (see Denial).
        child = denials.labels(policy, code, dryRunLabel(dryRun));
        denialChildren.set(key, child);
      }
      child.inc();
    },
    recordRejected(status) {
      rejectedChildren.get(status)?.inc();
    },
    recordPolicyReload(outcome, loaded) {
      reloadChildren[outcome].inc();
      if (loaded !== undefined) policiesLoaded.set(loaded);
    },
    recordPoliciesLoaded(loaded) {
      policiesLoaded.set(loaded);
    },
    recordTlsReload(outcome) {
      tlsChildren[outcome].inc();
    },
    recordConnectionShed(reason) {
      shedChildren[reason].inc();
    },
    recordCertificate(notAfterMs) {
      certificateNotAfter.set(notAfterMs / 1000);
    },
    recordPoliciesServed(atMs) {
      policiesServedAt.set(atMs / 1000);
    },
  };
}

/**
 * selectPolicies decides which policies apply to a pod (SPEC §3 rule 1 and 2): those named
 * in `tandem.dev/inject`, in order, then the automatic ones whose selector matches, unless
 * the pod opts out. Policies already recorded in the status annotation are left out.
 */
import { INJECT_ANNOTATION, OPT_OUT_VALUES, STATUS_ANNOTATION } from '../annotations.ts';
import type { LoadedPolicy, PolicySet } from '../policy/compile.ts';
import { denial, type Denial } from './denial.ts';
import { quoteValue } from './quote.ts';
import { describeSelector, matchesSelector } from './selector.ts';
import type { InjectionStatus } from './status.ts';
import type { InjectContext, PolicyDecision, SelectionReason } from './types.ts';

/** SelectedPolicy is a policy chosen for injection and why. */
export interface SelectedPolicy {
  readonly policy: LoadedPolicy;
  readonly reason: SelectionReason;
}

/** DeniedSelection says why the pod is denied, with every decision made until then. */
export interface DeniedSelection {
  readonly outcome: 'denied';
  readonly denial: Denial;
  readonly decisions: readonly PolicyDecision[];
}

/** Selection is the outcome of selection: what to inject, or why the pod is denied. */
export type Selection =
  | {
      readonly outcome: 'selected';
      readonly selected: readonly SelectedPolicy[];
      readonly warnings: readonly string[];
      readonly decisions: readonly PolicyDecision[];
    }
  | DeniedSelection;

/** SelectionInput is what selection reads about the pod. */
export interface SelectionInput {
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: InjectionStatus;
}

/** parseInjectAnnotation splits the annotation into names; `optOut` for `false`/`none`. */
export function parseInjectAnnotation(raw: string | undefined): {
  optOut: boolean;
  names: string[];
  duplicates: string[];
} {
  if (raw === undefined) return { optOut: false, names: [], duplicates: [] };
  const trimmed = raw.trim();
  if (OPT_OUT_VALUES.has(trimmed.toLowerCase())) return { optOut: true, names: [], duplicates: [] };
  // A set, not a scan of the names so far: the list is the pod author's to make long.
  const names = new Set<string>();
  const duplicates: string[] = [];
  for (const part of trimmed.split(',')) {
    const name = part.trim();
    if (name === '') continue;
    if (names.has(name)) duplicates.push(name);
    else names.add(name);
  }
  return { optOut: false, names: [...names], duplicates };
}

function namespaceAllows(policy: LoadedPolicy, context: InjectContext): boolean {
  const selector = policy.spec.namespaceSelector;
  return selector === undefined || matchesSelector(selector, context.namespaceLabels);
}

/**
 * selectPolicies applies the selection rules. With `explainAll`, it also records a
 * decision for every loaded policy, which `tandem explain` prints; the webhook leaves it
 * off so that the cost does not grow with the number of policies loaded.
 */
export function selectPolicies(
  input: SelectionInput,
  policies: PolicySet,
  context: InjectContext,
  explainAll = false,
): Selection {
  const decisions: PolicyDecision[] = [];
  const warnings: string[] = [];
  const selected: SelectedPolicy[] = [];
  const injectedBefore = new Map(input.status.policies.map((p) => [p.name, p] as const));
  const request = parseInjectAnnotation(input.annotations[INJECT_ANNOTATION]);
  for (const name of request.duplicates) {
    warnings.push(`${INJECT_ANNOTATION} names policy ${quoteValue(name)} more than once`);
  }
  const consider = (policy: LoadedPolicy, reason: SelectionReason, why: string): void => {
    const before = injectedBefore.get(policy.name);
    if (before === undefined) {
      selected.push({ policy, reason });
      decisions.push({ policy: policy.name, decision: 'inject', reason: why });
      return;
    }
    if (before.hash !== policy.hash) {
      warnings.push(
        `policy ${quoteValue(policy.name)} changed since this pod was injected; the pod keeps the version it has`,
      );
    }
    decisions.push({
      policy: policy.name,
      decision: 'already-injected',
      reason: `${STATUS_ANNOTATION} lists it already`,
    });
  };

  for (const name of request.names) {
    const policy = policies.byName.get(name);
    if (policy === undefined) {
      const reason = `${INJECT_ANNOTATION} requests policy ${quoteValue(name)}, which does not exist`;
      decisions.push({ policy: name, decision: 'deny', reason: 'no such policy' });
      // No `policy`: the name is the pod's text, and a metric label must stay bounded.
      return { outcome: 'denied', denial: denial('UnknownPolicy', reason), decisions };
    }
    if (!namespaceAllows(policy, context)) {
      const reason = `${INJECT_ANNOTATION} requests policy ${quoteValue(name)}, which namespace ${quoteValue(context.namespace)} may not use (its namespaceSelector does not match the namespace's labels)`;
      decisions.push({ policy: name, decision: 'deny', reason: 'namespace not allowed' });
      return {
        outcome: 'denied',
        denial: denial('NamespaceNotAllowed', reason, name),
        decisions,
      };
    }
    consider(policy, 'annotation', `requested in ${INJECT_ANNOTATION}`);
  }

  const requested = new Set(request.names);
  // Without explain, a policy that cannot match records nothing, so only the candidates
  // the pod's labels point at need trying.
  const automatic = explainAll ? policies.automatic : automaticCandidates(policies, input.labels);
  for (const policy of automatic) {
    if (requested.has(policy.name)) continue;
    const selector = policy.spec.selector;
    if (selector === undefined) continue;
    if (request.optOut) {
      if (explainAll) decisions.push(skip(policy, `the pod opts out with ${INJECT_ANNOTATION}`));
      continue;
    }
    if (!matchesSelector(selector, input.labels)) {
      if (explainAll) {
        decisions.push(
          skip(policy, `selector ${describeSelector(selector)} does not match the pod's labels`),
        );
      }
      continue;
    }
    if (!namespaceAllows(policy, context)) {
      if (explainAll) {
        decisions.push(
          skip(
            policy,
            `namespace ${quoteValue(context.namespace)} is outside its namespaceSelector`,
          ),
        );
      }
      continue;
    }
    consider(policy, 'selector', `selector ${describeSelector(selector)} matches the pod's labels`);
  }

  if (explainAll) {
    for (const policy of policies.byName.values()) {
      if (requested.has(policy.name) || policy.spec.selector !== undefined) continue;
      decisions.push(skip(policy, `not requested in ${INJECT_ANNOTATION} and has no selector`));
    }
  }
  return { outcome: 'selected', selected, warnings, decisions };
}

/**
 * automaticCandidates returns, in name order, the automatic policies whose selector the
 * labels could match: the unindexed ones, and those filed under one of the pod's labels.
 */
export function automaticCandidates(
  policies: PolicySet,
  labels: Readonly<Record<string, string>>,
): readonly LoadedPolicy[] {
  const { byLabel, unindexed, rank } = policies.automaticIndex;
  if (byLabel.size === 0) return unindexed;
  const candidates = [...unindexed];
  for (const [key, value] of Object.entries(labels)) {
    const filed = byLabel.get(key)?.get(value);
    if (filed !== undefined) candidates.push(...filed);
  }
  if (candidates.length > unindexed.length) {
    candidates.sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
  }
  return candidates;
}

function skip(policy: LoadedPolicy, reason: string): PolicyDecision {
  return { policy: policy.name, decision: 'skip', reason };
}

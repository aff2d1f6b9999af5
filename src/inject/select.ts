/**
 * selectPolicies decides which policies apply to a pod (SPEC §3 rule 1 and 2): those named
 * in `tandem.dev/inject`, in order, then the automatic ones whose selector matches, unless
 * the pod opts out. Policies already recorded in the status annotation are left out.
 */
import {
  INJECT_ANNOTATION,
  INJECT_LABEL,
  NAMESPACE_INJECTION_ENABLED,
  NAMESPACE_INJECTION_LABEL,
  OPT_OUT_VALUES,
  STATUS_ANNOTATION,
} from '../annotations.ts';
import { isAutomatic, type LoadedPolicy, type PolicySet } from '../policy/compile.ts';
import { denial, type Denial } from './denial.ts';
import { isNonEmpty, joinDenials } from './problems.ts';
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

  // Every name is looked at before a denial, so the pod hears of each one it got wrong.
  const problems: Denial[] = [];
  for (const name of request.names) {
    const policy = policies.byName.get(name);
    if (policy === undefined) {
      // No `policy`: the name is the pod's text, and a metric label must stay bounded.
      const reason = `${INJECT_ANNOTATION} requests policy ${quoteValue(name)}, which does not exist`;
      problems.push(denial('UnknownPolicy', reason));
      decisions.push({ policy: name, decision: 'deny', reason: 'no such policy' });
      continue;
    }
    if (!namespaceAllows(policy, context)) {
      const reason = `${INJECT_ANNOTATION} requests policy ${quoteValue(name)}, which namespace ${quoteValue(context.namespace)} may not use (its namespaceSelector does not match the namespace's labels)`;
      problems.push(denial('NamespaceNotAllowed', reason, name));
      decisions.push({ policy: name, decision: 'deny', reason: 'namespace not allowed' });
      continue;
    }
    consider(policy, 'annotation', `requested in ${INJECT_ANNOTATION}`);
  }
  if (isNonEmpty(problems)) {
    return { outcome: 'denied', denial: joinDenials(problems), decisions };
  }

  const requested = new Set(request.names);
  // Without explain, a policy that cannot match records nothing, so only the candidates
  // the pod's labels point at need trying.
  const automatic = explainAll ? policies.automatic : automaticCandidates(policies, input.labels);
  const optOut = optOutSource(request.optOut, input.labels);
  for (const policy of automatic) {
    if (requested.has(policy.name)) continue;
    if (optOut !== undefined) {
      if (explainAll) decisions.push(skip(policy, `the pod opts out with ${optOut}`));
      continue;
    }
    const automaticMatch = matchAutomatic(policy, input.labels, context);
    if (!automaticMatch.ok) {
      if (explainAll) decisions.push(skip(policy, automaticMatch.why));
      continue;
    }
    consider(policy, automaticMatch.reason, automaticMatch.why);
  }

  if (explainAll) {
    for (const policy of policies.byName.values()) {
      if (requested.has(policy.name) || isAutomatic(policy)) continue;
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

/** optOutSource names what opts the pod out of automatic policies, if anything does. */
function optOutSource(
  annotationOptOut: boolean,
  labels: Readonly<Record<string, string>>,
): string | undefined {
  if (annotationOptOut) return INJECT_ANNOTATION;
  const label = labels[INJECT_LABEL];
  // Exact values, as the webhook's objectSelector compares them.
  if (label !== undefined && OPT_OUT_VALUES.has(label)) return `label ${INJECT_LABEL}=${label}`;
  return undefined;
}

type AutomaticMatch =
  | { readonly ok: true; readonly reason: SelectionReason; readonly why: string }
  | { readonly ok: false; readonly why: string };

/**
 * matchAutomatic tells whether an automatic policy wants the pod: its namespace turned
 * it on (namespaceInjection), its selector matches the pod's labels, and its
 * namespaceSelector allows the namespace; each must hold where the policy has it.
 */
function matchAutomatic(
  policy: LoadedPolicy,
  labels: Readonly<Record<string, string>>,
  context: InjectContext,
): AutomaticMatch {
  const { selector, namespaceInjection } = policy.spec;
  const why: string[] = [];
  if (namespaceInjection === true) {
    const value = context.namespaceLabels[NAMESPACE_INJECTION_LABEL];
    if (value !== NAMESPACE_INJECTION_ENABLED) {
      return {
        ok: false,
        why: `namespace ${quoteValue(context.namespace)} is not labelled ${NAMESPACE_INJECTION_LABEL}=${NAMESPACE_INJECTION_ENABLED}`,
      };
    }
    why.push(
      `namespace ${quoteValue(context.namespace)} is labelled ${NAMESPACE_INJECTION_LABEL}=${NAMESPACE_INJECTION_ENABLED}`,
    );
  }
  if (selector !== undefined) {
    if (!matchesSelector(selector, labels)) {
      return {
        ok: false,
        why: `selector ${describeSelector(selector)} does not match the pod's labels`,
      };
    }
    why.push(`selector ${describeSelector(selector)} matches the pod's labels`);
  }
  if (!namespaceAllows(policy, context)) {
    return {
      ok: false,
      why: `namespace ${quoteValue(context.namespace)} is outside its namespaceSelector`,
    };
  }
  const reason: SelectionReason = namespaceInjection === true ? 'namespace' : 'selector';
  return { ok: true, reason, why: why.join(', and ') };
}

function skip(policy: LoadedPolicy, reason: string): PolicyDecision {
  return { policy: policy.name, decision: 'skip', reason };
}

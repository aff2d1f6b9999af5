/**
 * selectPolicies decides which policies apply to a pod (SPEC §3 rule 1 and 2): those named
 * in `tandem.dev/inject`, in order, then the automatic ones (a matching selector, or
 * injection turned on for the pod's namespace), unless the pod opts out. Policies already recorded in the status annotation are left out.
 *
 * Each rule is a named check that returns why a policy does not apply, or undefined: the
 * same checks decide for the webhook and explain the decision for `tandem explain`, which
 * only asks about more policies.
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
import { denial, type Denial } from '../denial.ts';
import type { InjectRequest } from './inject-request.ts';
import { isNonEmpty, joinDenials } from './problems.ts';
import { quoteValue } from './quote.ts';
import { fail, ok, type Result } from './result.ts';
import { describeSelector, matchesSelector } from './selector.ts';
import type { InjectionStatus, StatusEntry } from './status.ts';
import type { InjectContext, PolicyDecision, SelectionReason } from './types.ts';

export { parseInjectAnnotation } from './inject-request.ts';

/** SelectedPolicy is a policy chosen for injection and why. */
export interface SelectedPolicy {
  readonly policy: LoadedPolicy;
  readonly reason: SelectionReason;
}

/**
 * Selection is what to inject, or why the pod is denied, beside a decision for each
 * policy considered (every loaded one, for `tandem explain`).
 */
export interface Selection {
  readonly chosen: Result<readonly SelectedPolicy[]>;
  readonly decisions: readonly PolicyDecision[];
}

/** SelectionInput is what selection reads about the pod. */
export interface SelectionInput {
  readonly request: InjectRequest;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: InjectionStatus;
}

/** Scene is the pod and the admission, as every check sees them. */
interface Scene {
  readonly pod: SelectionInput;
  readonly context: InjectContext;
  /** injectedBefore maps the status's policies by name: a lookup, not a scan per policy. */
  readonly injectedBefore: ReadonlyMap<string, StatusEntry>;
}

/** Considered is what the checks look at: one policy in its scene. */
interface Considered extends Scene {
  readonly policy: LoadedPolicy;
}

/** Refusal is why a requested policy denies the pod: for the answer and for explain. */
interface Refusal {
  readonly denial: Denial;
  readonly decision: string;
}

function namespaceAllows({ policy, context }: Considered): boolean {
  const selector = policy.spec.namespaceSelector;
  return selector === undefined || matchesSelector(selector, context.namespaceLabels);
}

/** checkRequestedNamespace: a requested policy must be one the namespace may use. */
function checkRequestedNamespace(considered: Considered): Refusal | undefined {
  if (namespaceAllows(considered)) return undefined;
  const { policy, context } = considered;
  return {
    denial: denial(
      'NamespaceNotAllowed',
      `${INJECT_ANNOTATION} requests policy ${quoteValue(policy.name)}, which namespace ${quoteValue(context.namespace)} may not use (its namespaceSelector does not match the namespace's labels)`,
      policy.name,
    ),
    decision: 'namespace not allowed',
  };
}

/** REQUESTED_CHECKS are the rules a policy named in `tandem.dev/inject` must pass. */
const REQUESTED_CHECKS: readonly ((considered: Considered) => Refusal | undefined)[] = [
  checkRequestedNamespace,
];

/** optOutSource names what opts the pod out of automatic policies, if anything does. */
function optOutSource({ pod }: Considered): string | undefined {
  if (pod.request.optOut) return INJECT_ANNOTATION;
  const label = pod.labels[INJECT_LABEL];
  // Exact values, as the webhook's objectSelector compares them.
  if (label !== undefined && OPT_OUT_VALUES.has(label)) return `label ${INJECT_LABEL}=${label}`;
  return undefined;
}

/** namespaceInjectionOn: the pod's namespace carries the injection label's `enabled` value. */
function namespaceInjectionOn({ context }: Considered): boolean {
  return context.namespaceLabels[NAMESPACE_INJECTION_LABEL] === NAMESPACE_INJECTION_ENABLED;
}

/** AUTOMATIC_CHECKS are the rules, in order, an unrequested policy must pass to apply. */
const AUTOMATIC_CHECKS: readonly ((considered: Considered) => string | undefined)[] = [
  function isAutomaticPolicy({ policy }) {
    return isAutomatic(policy)
      ? undefined
      : `not requested in ${INJECT_ANNOTATION} and has no selector`;
  },
  function podDoesNotOptOut(considered) {
    const optOut = optOutSource(considered);
    return optOut === undefined ? undefined : `the pod opts out with ${optOut}`;
  },
  function namespaceTurnsInjectionOn(considered) {
    if (considered.policy.spec.namespaceInjection !== true || namespaceInjectionOn(considered)) {
      return undefined;
    }
    return `namespace ${quoteValue(considered.context.namespace)} is not labelled ${NAMESPACE_INJECTION_LABEL}=${NAMESPACE_INJECTION_ENABLED}`;
  },
  function selectorMatches({ policy, pod }) {
    const selector = policy.spec.selector;
    if (selector === undefined || matchesSelector(selector, pod.labels)) return undefined;
    return `selector ${describeSelector(selector)} does not match the pod's labels`;
  },
  function namespaceMatches(considered) {
    return namespaceAllows(considered)
      ? undefined
      : `namespace ${quoteValue(considered.context.namespace)} is outside its namespaceSelector`;
  },
];

/**
 * automaticWhy says why an automatic policy that passed every check applies: its namespace
 * turned it on, its selector matched, or both.
 */
function automaticWhy({ policy, context }: Considered): {
  reason: SelectionReason;
  why: string;
} {
  const { selector, namespaceInjection } = policy.spec;
  const why: string[] = [];
  if (namespaceInjection === true) {
    why.push(
      `namespace ${quoteValue(context.namespace)} is labelled ${NAMESPACE_INJECTION_LABEL}=${NAMESPACE_INJECTION_ENABLED}`,
    );
  }
  if (selector !== undefined) {
    why.push(`selector ${describeSelector(selector)} matches the pod's labels`);
  }
  return {
    reason: namespaceInjection === true ? 'namespace' : 'selector',
    why: why.join(', and '),
  };
}

/** Choice is one policy's decision, and the policy when it is to be injected. */
interface Choice {
  readonly decision: PolicyDecision;
  readonly selected?: SelectedPolicy;
  readonly warning?: string;
}

/** choose injects a policy that passed its checks, unless the status says it is in already. */
function choose(considered: Considered, reason: SelectionReason, why: string): Choice {
  const { policy } = considered;
  const before = considered.injectedBefore.get(policy.name);
  if (before === undefined) {
    return {
      decision: { policy: policy.name, decision: 'inject', reason: why },
      selected: { policy, reason },
    };
  }
  const decision: PolicyDecision = {
    policy: policy.name,
    decision: 'already-injected',
    reason: `${STATUS_ANNOTATION} lists it already`,
  };
  if (before.hash === policy.hash) return { decision };
  return {
    decision,
    warning: `policy ${quoteValue(policy.name)} changed since this pod was injected; the pod keeps the version it has`,
  };
}

/** chooseAutomatic runs the automatic checks on one policy: skip with the first reason, or choose. */
function chooseAutomatic(considered: Considered): Choice {
  const { policy } = considered;
  for (const check of AUTOMATIC_CHECKS) {
    const reason = check(considered);
    if (reason !== undefined)
      return { decision: { policy: policy.name, decision: 'skip', reason } };
  }
  const { reason, why } = automaticWhy(considered);
  return choose(considered, reason, why);
}

/** Tally gathers the choices in order. */
class Tally {
  readonly decisions: PolicyDecision[] = [];
  readonly selected: SelectedPolicy[] = [];
  readonly warnings: string[] = [];

  add(choice: Choice): void {
    this.decisions.push(choice.decision);
    if (choice.selected !== undefined) this.selected.push(choice.selected);
    if (choice.warning !== undefined) this.warnings.push(choice.warning);
  }
}

/**
 * chooseRequested decides the policies `tandem.dev/inject` names, or the denial of every
 * name refused, in one.
 */
function chooseRequested(scene: Scene, policies: PolicySet, tally: Tally): Denial | undefined {
  // Every name is looked at before a denial, so the pod hears of each one it got wrong.
  const problems: Denial[] = [];
  for (const name of scene.pod.request.names) {
    const policy = policies.byName.get(name);
    const refusal = refuseRequested(scene, name, policy);
    if (refusal !== undefined) {
      tally.add({ decision: { policy: name, decision: 'deny', reason: refusal.decision } });
      problems.push(refusal.denial);
    } else if (policy !== undefined) {
      tally.add(choose({ ...scene, policy }, 'annotation', `requested in ${INJECT_ANNOTATION}`));
    }
  }
  return isNonEmpty(problems) ? joinDenials(problems) : undefined;
}

/** refuseRequested is why a requested name cannot be injected (its first failing check), or undefined. */
function refuseRequested(
  scene: Scene,
  name: string,
  policy: LoadedPolicy | undefined,
): Refusal | undefined {
  if (policy === undefined) {
    // No `policy`: the name is the pod's text, and a metric label must stay bounded.
    return {
      denial: denial(
        'UnknownPolicy',
        `${INJECT_ANNOTATION} requests policy ${quoteValue(name)}, which does not exist`,
      ),
      decision: 'no such policy',
    };
  }
  for (const check of REQUESTED_CHECKS) {
    const refusal = check({ ...scene, policy });
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

/** Candidates says which unrequested policies selection considers. */
export type Candidates = 'indexed' | 'all';

/**
 * selectPolicies applies the selection rules. With `candidates: 'all'` every loaded
 * policy gets a decision, which `tandem explain` prints; the webhook considers only the
 * automatic policies the pod's labels point at (automaticCandidates), so that its cost
 * does not grow with the number of policies loaded. The decisions made are the same.
 */
export function selectPolicies(
  pod: SelectionInput,
  policies: PolicySet,
  context: InjectContext,
  candidates: Candidates = 'indexed',
): Selection {
  const tally = new Tally();
  const injectedBefore = new Map(pod.status.policies.map((entry) => [entry.name, entry] as const));
  const scene: Scene = { pod, context, injectedBefore };
  const refused = chooseRequested(scene, policies, tally);
  if (refused !== undefined) return { chosen: fail(refused), decisions: tally.decisions };
  const requested = new Set(pod.request.names);
  for (const policy of unrequested(policies, pod.labels, candidates)) {
    if (!requested.has(policy.name)) tally.add(chooseAutomatic({ ...scene, policy }));
  }
  const warnings = [
    ...pod.request.duplicates.map(
      (name) => `${INJECT_ANNOTATION} names policy ${quoteValue(name)} more than once`,
    ),
    ...tally.warnings,
  ];
  return { chosen: ok(tally.selected, warnings), decisions: tally.decisions };
}

/** unrequested lists the policies selection tries beyond those requested by name. */
function unrequested(
  policies: PolicySet,
  labels: Readonly<Record<string, string>>,
  candidates: Candidates,
): readonly LoadedPolicy[] {
  if (candidates === 'indexed') return automaticCandidates(policies, labels);
  const manual = [...policies.byName.values()].filter((p) => !isAutomatic(p));
  return [...policies.automatic, ...manual];
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

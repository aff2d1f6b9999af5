/**
 * The injection engine: read the pod → trust its status → select → fit → resolve params →
 * render and merge → patch. A pure function of (pod, policies, context): no I/O, no
 * clock, no logger, so the webhook and `tandem inject` get the same answer for the same
 * input. The pod is read once into PodFacts; each stage returns a Result with its own
 * warnings, and the pipeline joins them in order.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Operation } from 'fast-json-patch';
import { DEFAULT_CONTAINER_ANNOTATION, STATUS_ANNOTATION } from '../annotations.ts';
import { denial, type Denial } from '../denial.ts';
import type { PolicySet } from '../policy/compile.ts';
import { composeAdditions, type Additions, type PolicyInput } from './compose.ts';
import { resolveParams, type ParamSource } from './params.ts';
import { readPodFacts, type PodFacts } from './pod-facts.ts';
import { raisePodResources } from './pod-resources.ts';
import { isNonEmpty, joinDenials } from './problems.ts';
import { fitPolicies } from './pod-fit.ts';
import { buildPatch } from './patch.ts';
import { checkStatusLength } from './request-limits.ts';
import { fail, ok, warnedEarlier, type Result } from './result.ts';
import { selectPolicies, type Candidates, type SelectedPolicy } from './select.ts';
import { isEmptyStatus, serializeStatus, type InjectionStatus } from './status.ts';
import { mergeUndo, recordUndo, type Undo } from './undo.ts';
import { trustStatus } from './status-trust.ts';
import { targetContainers } from './targets.ts';
import type { InjectContext, InjectResult, InjectedPolicy, PolicyDecision } from './types.ts';

/** Explanation is what `tandem explain` shows for one pod. */
export interface Explanation {
  readonly decisions: readonly PolicyDecision[];
  readonly result: InjectResult;
  /** params are, for each policy injected, its param values and where each came from. */
  readonly params?: ReadonlyMap<string, readonly ParamSource[]>;
}

/** injectPod decides which policies apply to `pod` and returns the patch that adds them. */
export function injectPod(pod: V1Pod, policies: PolicySet, context: InjectContext): InjectResult {
  return run(pod, policies, context, 'indexed').result;
}

/** explainPod says, for every loaded policy, whether it applies to `pod` and why. */
export function explainPod(pod: V1Pod, policies: PolicySet, context: InjectContext): Explanation {
  const { decisions, result, injecting } = run(pod, policies, context, 'all');
  if (injecting === undefined) return { decisions, result };
  return { decisions, result, params: paramSources(injecting.selected, injecting.facts) };
}

/** Run is the engine's answer, and what it went on to inject when selection chose policies. */
interface Run extends Explanation {
  readonly injecting?: { readonly facts: PodFacts; readonly selected: readonly SelectedPolicy[] };
}

function run(pod: V1Pod, policies: PolicySet, context: InjectContext, candidates: Candidates): Run {
  const read = readPodFacts(pod, context, policies.clusterValues);
  if (!read.ok) return { decisions: [], result: answer(read) };
  const trust = trustStatus(read.value, policies);
  const facts: PodFacts = { ...read.value, status: trust.status };
  const selection = fitPolicies(pod.spec, selectPolicies(facts, policies, context, candidates));
  const chosen = warnedEarlier(trust.warnings, selection.chosen);
  const { decisions } = selection;
  if (chosen.ok && chosen.value.length === 0) {
    return { decisions, result: { outcome: 'unchanged', warnings: chosen.warnings } };
  }
  if (!chosen.ok) return { decisions, result: answer(chosen) };
  const injected = warnedEarlier(chosen.warnings, inject(facts, chosen.value, context));
  return { decisions, result: answer(injected), injecting: { facts, selected: chosen.value } };
}

/**
 * paramSources gives, for explain, each selected policy's param values and where each
 * came from, up to the first policy whose params deny the pod (its reason is the answer).
 * None when the pod's target containers deny it: no params were read.
 */
function paramSources(
  selected: readonly SelectedPolicy[],
  facts: PodFacts,
): ReadonlyMap<string, readonly ParamSource[]> {
  const sources = new Map<string, readonly ParamSource[]>();
  if (!targetContainers(facts).ok) return sources;
  for (const { policy } of selected) {
    const params = resolveParams(policy, facts.params);
    if (!params.ok) break;
    sources.set(policy.name, params.value.sources);
  }
  return sources;
}

/** Injection is the patch for the selected policies, and what the status records of them. */
interface Injection {
  readonly patch: Operation[];
  readonly injected: readonly InjectedPolicy[];
}

/** answer turns the pipeline's result into the engine's. */
function answer(result: Result<Injection>): InjectResult {
  const { warnings } = result;
  if (!result.ok) {
    const { code, reason, policy } = result;
    const why = policy === undefined ? { code, reason } : { code, reason, policy };
    return { outcome: 'denied', ...why, warnings };
  }
  return { outcome: 'patched', ...result.value, warnings };
}

/** inject adds the selected policies to the pod: targets, params, composition, patch. */
function inject(
  facts: PodFacts,
  selected: readonly SelectedPolicy[],
  context: InjectContext,
): Result<Injection> {
  const targets = targetContainers(facts);
  if (!targets.ok) return targets;
  const inputs = resolveAll(selected, facts);
  if (!inputs.ok) return inputs;
  const composed = warnedEarlier(
    inputs.warnings,
    composeAdditions({ facts, targets: targets.value }, inputs.value, context),
  );
  if (!composed.ok) return composed;
  return warnedEarlier(composed.warnings, finish(facts, selected, composed.value));
}

/**
 * resolveAll resolves every selected policy's params, or says why the pod is denied: every
 * param problem of every policy, in one message.
 */
function resolveAll(
  selected: readonly SelectedPolicy[],
  facts: Pick<PodFacts, 'params'>,
): Result<PolicyInput[]> {
  const inputs: PolicyInput[] = [];
  const warnings: string[] = [];
  // Every policy's params are looked at, so the pod hears of every problem at once.
  const problems: Denial[] = [];
  for (const { policy } of selected) {
    const params = resolveParams(policy, facts.params);
    if (!params.ok) {
      problems.push(...params.denials);
      continue;
    }
    warnings.push(...params.warnings);
    inputs.push({ policy, params: params.value.values });
  }
  return isNonEmpty(problems) ? fail(joinDenials(problems), warnings) : ok(inputs, warnings);
}

/**
 * undoAfter is the undo record the new status carries: this injection's, added to the
 * earlier one's. A status from before tandem kept the record has none, and the new one
 * then gets none either: it would claim to undo the earlier injection and could not.
 */
function undoAfter(status: InjectionStatus, fresh: Undo): Undo | undefined {
  if (isEmptyStatus(status)) return fresh;
  return status.undo === undefined ? undefined : mergeUndo(status.undo, fresh);
}

/** finish adds tandem's own annotations to the additions and builds the patch. */
function finish(
  facts: PodFacts,
  selected: readonly SelectedPolicy[],
  additions: Additions,
): Result<Injection> {
  const { status } = facts;
  const injected = selected.map(({ policy, reason }) => ({
    name: policy.name,
    hash: policy.hash,
    reason,
  }));
  const added = [...additions.initContainers, ...additions.containers].map((c) => c.name);
  const withDefault: Additions = {
    ...additions,
    annotations: { ...additions.annotations, ...defaultContainer(facts) },
  };
  const resources = raisePodResources(facts.pod, withDefault);
  const undo = undoAfter(status, recordUndo(facts.pod, withDefault, resources.changes));
  const newStatus = serializeStatus({
    policies: [...status.policies, ...injected],
    containers: [...status.containers, ...added],
    volumes: [...status.volumes, ...additions.volumes.map((v) => v.name)],
    ...(undo === undefined ? {} : { undo }),
  });
  const statusTooLong = checkStatusLength(newStatus);
  if (statusTooLong !== undefined) {
    return fail(denial('StatusWouldNotFit', `the policies would not fit: ${statusTooLong}`));
  }
  const complete: Additions = {
    ...withDefault,
    annotations: { ...withDefault.annotations, [STATUS_ANNOTATION]: newStatus },
  };
  const patch = buildPatch(facts.pod, complete, resources.changes);
  const warnings = resources.warning === undefined ? [] : [resources.warning];
  return ok({ patch, injected }, warnings);
}

/**
 * defaultContainer names the pod's first container as kubectl's default, unless the
 * author chose one: it keeps `kubectl logs` and `kubectl exec` on the app rather than
 * asking which container.
 */
function defaultContainer(facts: PodFacts): Record<string, string> {
  const first = facts.containers[0]?.name;
  if (first === undefined || facts.defaultContainerSet) return {};
  return { [DEFAULT_CONTAINER_ANNOTATION]: first };
}

/**
 * The injection engine: select → resolve params → render and merge → patch. A pure
 * function of (pod, policies, context): no I/O, no clock, no logger, so the webhook and
 * `tandem inject` get the same answer for the same input.
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  DEFAULT_CONTAINER_ANNOTATION,
  STATUS_ANNOTATION,
  TARGET_CONTAINERS_ANNOTATION,
} from '../annotations.ts';
import type { PolicySet } from '../policy/compile.ts';
import {
  composeAdditions,
  type Additions,
  type ComposeInput,
  type PolicyInput,
} from './compose.ts';
import { denial, type Denial } from './denial.ts';
import { paramInputs, resolveParams, type ParamInputs, type ParamSource } from './params.ts';
import { raisePodResources } from './pod-resources.ts';
import { isNonEmpty, joinDenials } from './problems.ts';
import { fitPolicies } from './pod-fit.ts';
import { quoteValue } from './quote.ts';
import { buildPatch } from './patch.ts';
import { checkRequestLimits, checkStatusLength } from './request-limits.ts';
import { selectPolicies, type SelectedPolicy } from './select.ts';
import { isEmptyStatus, parseStatus, serializeStatus, type InjectionStatus } from './status.ts';
import { mergeUndo, recordUndo, type Undo } from './undo.ts';
import { trustStatus } from './status-trust.ts';
import type { InjectContext, InjectResult, PolicyDecision } from './types.ts';

/** Explanation is what `tandem explain` shows for one pod. */
export interface Explanation {
  readonly decisions: readonly PolicyDecision[];
  readonly result: InjectResult;
  /** params are, for each policy injected, its param values and where each came from. */
  readonly params?: ReadonlyMap<string, readonly ParamSource[]>;
}

function denied(why: Denial, warnings: readonly string[] = []): InjectResult {
  return { outcome: 'denied', ...why, warnings };
}

/**
 * targetContainers picks the app containers that get the policies' mounts and env: those
 * named in `tandem.dev/target-containers`, else every container tandem did not add. One
 * pass over the pod's containers and one over the names: both are pod-supplied lists.
 */
function targetContainers(
  pod: V1Pod,
  status: InjectionStatus,
): { ok: true; targets: number[] } | { ok: false; denial: Denial } {
  const containers = pod.spec?.containers ?? [];
  const raw = pod.metadata?.annotations?.[TARGET_CONTAINERS_ANNOTATION];
  if (raw === undefined) {
    const added = new Set(status.containers);
    const targets = containers.map((c, i) => (added.has(c.name) ? -1 : i)).filter((i) => i >= 0);
    return { ok: true, targets };
  }
  const names = raw
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.length === 0) {
    // Most often a templated value that came out empty: injecting the policy's mounts and
    // env into no container at all would leave the app without what it asked for.
    return {
      ok: false,
      denial: denial(
        'TargetContainersEmpty',
        `annotation ${TARGET_CONTAINERS_ANNOTATION} names no container: name at least one of the pod's containers, or remove the annotation to target all of them`,
      ),
    };
  }
  const indexOf = new Map<string, number>();
  containers.forEach((c, i) => {
    if (!indexOf.has(c.name)) indexOf.set(c.name, i);
  });
  const targets = new Set<number>();
  for (const name of names) {
    const index = indexOf.get(name);
    if (index === undefined) {
      return {
        ok: false,
        denial: denial(
          'TargetContainerUnknown',
          `annotation ${TARGET_CONTAINERS_ANNOTATION} names container ${quoteValue(name)}, which the pod does not have`,
        ),
      };
    }
    targets.add(index);
  }
  return { ok: true, targets: [...targets] };
}

/** injectPod decides which policies apply to `pod` and returns the patch that adds them. */
export function injectPod(pod: V1Pod, policies: PolicySet, context: InjectContext): InjectResult {
  return run(pod, policies, context, false).result;
}

/** explainPod says, for every loaded policy, whether it applies to `pod` and why. */
export function explainPod(pod: V1Pod, policies: PolicySet, context: InjectContext): Explanation {
  return run(pod, policies, context, true);
}

function run(
  pod: V1Pod,
  policies: PolicySet,
  context: InjectContext,
  explainAll: boolean,
): Explanation {
  const annotations = pod.metadata?.annotations ?? {};
  // Caps first: everything after this reads pod-supplied lists that they bound.
  const overLimit = checkRequestLimits(annotations);
  if (overLimit !== undefined) return { decisions: [], result: denied(overLimit) };
  const parsed = parseStatus(annotations[STATUS_ANNOTATION]);
  if (!parsed.ok) {
    return { decisions: [], result: denied(denial('StatusInvalid', parsed.message)) };
  }
  const scope = templateScope(pod, context);
  const inputs = paramInputs(
    annotations,
    { name: context.namespace, annotations: context.namespaceAnnotations ?? {} },
    policies.clusterValues,
  );
  const trust = trustStatus(pod, parsed.status, policies, { template: scope, params: inputs });
  const { status } = trust;
  const selection = selectPolicies(
    { annotations, labels: pod.metadata?.labels ?? {}, status },
    policies,
    context,
    explainAll,
  );
  if (selection.outcome === 'denied') {
    return { decisions: selection.decisions, result: denied(selection.denial, trust.warnings) };
  }
  const warnings = [...trust.warnings, ...selection.warnings];
  const fitted = fitPolicies(pod.spec, selection.selected, selection.decisions);
  if (fitted.outcome === 'denied') {
    return { decisions: fitted.decisions, result: denied(fitted.denial, warnings) };
  }
  const { decisions } = fitted;
  const sources = new Map<string, readonly ParamSource[]>();
  const result = inject({ pod, status, context, scope, inputs }, fitted.selected, {
    warnings,
    sources,
  });
  return { decisions, result, params: sources };
}

/** Notes collect what the stages say beside the answer: warnings, and param sources for explain. */
interface Notes {
  readonly warnings: string[];
  readonly sources: Map<string, readonly ParamSource[]>;
}

/**
 * resolveAll resolves every selected policy's params, or says why the pod is denied: every
 * param problem of every policy, in one message.
 */
function resolveAll(
  selected: readonly SelectedPolicy[],
  params: ParamInputs,
  notes: Notes,
): PolicyInput[] | Denial {
  const inputs: PolicyInput[] = [];
  const problems: Denial[] = [];
  for (const { policy } of selected) {
    const resolved = resolveParams(policy, params);
    if (!resolved.ok) {
      problems.push(...resolved.denials);
      continue;
    }
    notes.warnings.push(...resolved.warnings);
    notes.sources.set(policy.name, resolved.sources);
    inputs.push({ policy, params: resolved.values });
  }
  return isNonEmpty(problems) ? joinDenials(problems) : inputs;
}

/** templateScope is what `{{ pod.* }}` references resolve against. */
function templateScope(pod: V1Pod, context: InjectContext): ComposeInput['scope'] {
  const metadata = pod.metadata;
  return {
    namespace: context.namespace,
    // A pod made by a controller has only a generateName at admission.
    podName: metadata?.name ?? metadata?.generateName ?? '',
    labels: metadata?.labels ?? {},
    annotations: metadata?.annotations ?? {},
  };
}

/** PodCase is one admission: the pod, what tandem already did to it, and its context. */
interface PodCase {
  readonly pod: V1Pod;
  readonly status: InjectionStatus;
  readonly context: InjectContext;
  /** scope is what the pod's templates resolve against, read once per admission. */
  readonly scope: ComposeInput['scope'];
  /** inputs are where the pod's param values come from, read once per admission. */
  readonly inputs: ParamInputs;
}

function inject(podCase: PodCase, selected: readonly SelectedPolicy[], notes: Notes): InjectResult {
  const { pod, status, context, scope } = podCase;
  const { warnings } = notes;
  if (selected.length === 0) return { outcome: 'unchanged', warnings };
  const targets = targetContainers(pod, status);
  if (!targets.ok) return denied(targets.denial, warnings);
  const inputs = resolveAll(selected, podCase.inputs, notes);
  if (!Array.isArray(inputs)) return denied(inputs, warnings);
  const composed = composeAdditions(
    { pod, status, targets: targets.targets, scope },
    inputs,
    context,
  );
  if (!composed.ok) return denied(composed.denial, warnings);
  warnings.push(...composed.additions.warnings);
  return finish(podCase, selected, composed.additions, warnings);
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

/** finish adds tandem's own annotations and builds the patch. */
function finish(
  { pod, status }: PodCase,
  selected: readonly SelectedPolicy[],
  additions: Additions,
  given: readonly string[],
): InjectResult {
  const firstApp = pod.spec?.containers[0]?.name;
  if (
    firstApp !== undefined &&
    pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION] === undefined
  ) {
    // Keeps `kubectl logs` and `kubectl exec` on the app rather than asking which container.
    additions.annotations[DEFAULT_CONTAINER_ANNOTATION] = firstApp;
  }
  const injected = selected.map(({ policy, reason }) => ({
    name: policy.name,
    hash: policy.hash,
    reason,
  }));
  const added = [...additions.initContainers, ...additions.containers].map((c) => c.name);
  const resources = raisePodResources(pod, additions);
  const undo = undoAfter(status, recordUndo(pod, additions, resources.changes));
  const newStatus = serializeStatus({
    policies: [...status.policies, ...injected],
    containers: [...status.containers, ...added],
    volumes: [...status.volumes, ...additions.volumes.map((v) => v.name)],
    ...(undo === undefined ? {} : { undo }),
  });
  const statusTooLong = checkStatusLength(newStatus);
  if (statusTooLong !== undefined) {
    return denied(
      denial('StatusWouldNotFit', `the policies would not fit: ${statusTooLong}`),
      given,
    );
  }
  additions.annotations[STATUS_ANNOTATION] = newStatus;
  const patch = buildPatch(pod, additions, resources.changes);
  const warnings = resources.warning === undefined ? given : [...given, resources.warning];
  return { outcome: 'patched', patch, injected, warnings };
}

/**
 * Pods that tandem's containers do not fit: Windows pods, whatever way they say so, and
 * hostNetwork pods, unless the policy opts in. An automatic policy is skipped there, with
 * the reason recorded for `tandem explain`; a requested one denies the pod, as Istio and
 * Linkerd leave such pods alone rather than inject what cannot work.
 */
import type { V1NodeSelectorTerm, V1PodSpec } from '@kubernetes/client-node';
import { INJECT_ANNOTATION } from '../annotations.ts';
import type { LoadedPolicy } from '../policy/compile.ts';
import { denial, type DenialCode } from '../denial.ts';
import { fail, ok } from './result.ts';
import type { SelectedPolicy, Selection } from './select.ts';
import type { PolicyDecision } from './types.ts';

/** OS_LABEL is the well-known node label the kubelet sets to the node's OS. */
const OS_LABEL = 'kubernetes.io/os';

/** termRequiresWindows: a node selector term that only a Windows node can meet. */
function termRequiresWindows(term: V1NodeSelectorTerm): boolean {
  return (term.matchExpressions ?? []).some((expression) => {
    if (expression.key !== OS_LABEL) return false;
    const values = expression.values ?? [];
    if (expression.operator === 'In')
      return values.length > 0 && values.every((v) => v === 'windows');
    return expression.operator === 'NotIn' && values.includes('linux');
  });
}

/** hostProcessContainer names the first container that runs as a Windows HostProcess. */
function hostProcessContainer(spec: V1PodSpec): string | undefined {
  for (const list of [spec.initContainers ?? [], spec.containers]) {
    for (const container of list) {
      if (container.securityContext?.windowsOptions?.hostProcess === true) return container.name;
    }
  }
  return undefined;
}

/** requiredAffinitySign: every required node affinity term binds the pod to Windows. */
function requiredAffinitySign(spec: V1PodSpec): string | undefined {
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = required?.nodeSelectorTerms ?? [];
  // Terms are alternatives: the pod is bound to Windows only when every one of them is.
  if (terms.length === 0 || !terms.every(termRequiresWindows)) return undefined;
  return `required node affinity on ${OS_LABEL}=windows`;
}

/** WINDOWS_SIGNS are the checks, in order, that each name one thing only a Windows pod has. */
const WINDOWS_SIGNS: readonly ((spec: V1PodSpec) => string | undefined)[] = [
  (spec) => (spec.os?.name === 'windows' ? 'spec.os.name: windows' : undefined),
  (spec) =>
    spec.nodeSelector?.[OS_LABEL] === 'windows' ? `nodeSelector ${OS_LABEL}: windows` : undefined,
  requiredAffinitySign,
  (spec) =>
    spec.securityContext?.windowsOptions?.hostProcess === true
      ? 'securityContext.windowsOptions.hostProcess: true'
      : undefined,
  (spec) => {
    const container = hostProcessContainer(spec);
    return container === undefined
      ? undefined
      : `container "${container}" sets windowsOptions.hostProcess: true`;
  },
];

/**
 * windowsSign says what makes `spec` a Windows pod, or undefined for any other: the
 * scheduler puts it on a Windows node (`spec.os.name`, a node selector or a required node
 * affinity on `kubernetes.io/os`), or it runs as a HostProcess, which only Windows has.
 */
export function windowsSign(spec: V1PodSpec | undefined): string | undefined {
  if (spec === undefined) return undefined;
  for (const sign of WINDOWS_SIGNS) {
    const found = sign(spec);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Misfit says why a policy cannot go into the pod: for a denial and for `explain`. */
interface Misfit {
  readonly code: DenialCode;
  readonly deny: string;
  readonly skip: string;
}

function windowsMisfit(sign: string): Misfit {
  const why = `tandem injects Linux containers, and this is a Windows pod (${sign})`;
  return { code: 'WindowsPod', deny: why, skip: why };
}

function hostNetworkMisfit(policy: LoadedPolicy): Misfit | undefined {
  if (policy.spec.hostNetwork === 'allowed') return undefined;
  return {
    code: 'HostNetworkPod',
    deny: `the pod uses hostNetwork and the policy does not support it: its containers would listen on the node's own network, where their ports clash with the node's and with other such pods (a policy opts in with spec.hostNetwork: allowed)`,
    skip: 'the pod uses hostNetwork, which the policy does not support (spec.hostNetwork)',
  };
}

function decide(
  decisions: readonly PolicyDecision[],
  changed: ReadonlyMap<string, PolicyDecision>,
): readonly PolicyDecision[] {
  if (changed.size === 0) return decisions;
  return decisions.map((d) => changed.get(d.policy) ?? d);
}

/**
 * fitPolicies drops the selected policies that cannot go into the pod described by
 * `spec`, recording why in the decisions, or denies the pod when one of them was
 * requested by name.
 */
export function fitPolicies(spec: V1PodSpec | undefined, selection: Selection): Selection {
  const { chosen, decisions } = selection;
  const windows = windowsSign(spec);
  const hostNetwork = spec?.hostNetwork === true;
  if (!chosen.ok || (windows === undefined && !hostNetwork)) return selection;
  const kept: SelectedPolicy[] = [];
  const changed = new Map<string, PolicyDecision>();
  for (const choice of chosen.value) {
    const { policy } = choice;
    const misfit = windows === undefined ? hostNetworkMisfit(policy) : windowsMisfit(windows);
    if (misfit === undefined) {
      kept.push(choice);
      continue;
    }
    if (choice.reason === 'annotation') {
      changed.set(policy.name, { policy: policy.name, decision: 'deny', reason: misfit.skip });
      return {
        chosen: fail(
          denial(
            misfit.code,
            `${INJECT_ANNOTATION} requests policy ${JSON.stringify(policy.name)}, but ${misfit.deny}`,
            policy.name,
          ),
          chosen.warnings,
        ),
        decisions: decide(decisions, changed),
      };
    }
    changed.set(policy.name, { policy: policy.name, decision: 'skip', reason: misfit.skip });
  }
  return { chosen: ok(kept, chosen.warnings), decisions: decide(decisions, changed) };
}

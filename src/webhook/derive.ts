/**
 * deriveWebhooks writes the webhook configuration's selectors and conditions from the
 * loaded policies (issue 12 item 2): the API server then sends tandem exactly the pods
 * some policy could want. Pure: policies in, webhooks out.
 *
 * A webhook's namespaceSelector, objectSelector and matchConditions must all hold for a
 * pod to be sent, and matchConditions cannot see the namespace (the API server binds
 * `object`, `oldObject`, `request` and `authorizer` there, not `namespaceObject`). So a
 * policy that depends on its namespace gets a webhook of its own whose namespaceSelector
 * says which namespaces, as Istio's injector has one webhook per way of asking:
 *
 * - `inject.tandem.dev`: every namespace tandem may touch; pods that request a policy,
 *   or that an automatic policy without a namespace condition selects by labels.
 * - one more per distinct namespace condition (`namespaceInjection`, `namespaceSelector`):
 *   those namespaces; pods its policies select, that have not opted out and that the
 *   first webhook does not already send (one call does all of a pod's policies).
 */
import {
  NAMESPACE_INJECTION_DISABLED,
  NAMESPACE_INJECTION_ENABLED,
  NAMESPACE_INJECTION_LABEL,
  INJECT_LABEL,
  OPT_OUT_VALUES,
} from '../annotations.ts';
import { isAutomatic, type LoadedPolicy, type PolicySet } from '../policy/compile.ts';
import type { LabelSelector } from '../policy/schema.ts';
import { NAMESPACE_NAME_LABEL } from '../kube/namespaces.ts';
import {
  annotationOptOutCel,
  hostNetworkCel,
  labelOptOutCel,
  requestsCel,
  selectorCel,
} from './cel.ts';

/** MatchCondition is one named CEL condition of a webhook. */
export interface MatchCondition {
  readonly name: string;
  readonly expression: string;
}

/** WebhookRule is what decides which pods one webhook sends tandem. */
export interface WebhookRule {
  readonly name: string;
  readonly namespaceSelector: LabelSelector;
  readonly objectSelector?: LabelSelector;
  readonly matchConditions: readonly MatchCondition[];
}

/** DeriveOptions are the namespaces never sent, whatever the policies say. */
export interface DeriveOptions {
  readonly excludeNamespaces: readonly string[];
}

/** DEFAULT_EXCLUDED_NAMESPACES: the cluster's own, and tandem's (so it can always start). */
export const DEFAULT_EXCLUDED_NAMESPACES: readonly string[] = ['kube-system', 'tandem-system'];

/** GENERAL_WEBHOOK is the name of the webhook every namespace goes through. */
export const GENERAL_WEBHOOK = 'inject.tandem.dev';

const OPT_OUT_LIST = [...OPT_OUT_VALUES].sort();

/** exclusions are the namespaceSelector requirements every webhook starts with. */
export function exclusions(
  excluded: readonly string[],
): NonNullable<LabelSelector['matchExpressions']> {
  return [
    { key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: [...excluded] },
    { key: NAMESPACE_INJECTION_LABEL, operator: 'NotIn', values: [NAMESPACE_INJECTION_DISABLED] },
  ];
}

/** podTerm is the CEL test of the pod that one automatic policy applies. */
function podTerm(policy: LoadedPolicy): string {
  const parts: string[] = [];
  if (policy.spec.selector !== undefined) parts.push(selectorCel(policy.spec.selector));
  if (policy.spec.hostNetwork !== 'allowed') parts.push(`!${hostNetworkCel()}`);
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

/** anyOf joins alternatives, each once, in a stable order. */
function anyOf(terms: readonly string[]): string {
  const unique = [...new Set(terms)];
  if (unique.length === 1) return unique[0] ?? 'false';
  return unique.map((term) => `(${term})`).join(' || ');
}

/**
 * namespaceCondition is the namespace side of an automatic policy, as one label
 * selector, or undefined when the policy takes pods in any namespace.
 */
export function namespaceCondition(policy: LoadedPolicy): LabelSelector | undefined {
  const { namespaceSelector, namespaceInjection } = policy.spec;
  if (namespaceSelector === undefined && namespaceInjection !== true) return undefined;
  const expressions = [...(namespaceSelector?.matchExpressions ?? [])];
  if (namespaceInjection === true) {
    expressions.push({
      key: NAMESPACE_INJECTION_LABEL,
      operator: 'In',
      values: [NAMESPACE_INJECTION_ENABLED],
    });
  }
  return {
    ...(namespaceSelector?.matchLabels === undefined
      ? {}
      : { matchLabels: namespaceSelector.matchLabels }),
    matchExpressions: expressions,
  };
}

function withExclusions(selector: LabelSelector, excluded: readonly string[]): LabelSelector {
  return {
    ...(selector.matchLabels === undefined ? {} : { matchLabels: selector.matchLabels }),
    matchExpressions: [...exclusions(excluded), ...(selector.matchExpressions ?? [])],
  };
}

/** deriveWebhooks returns the webhooks for `policies`, the general one first. */
export function deriveWebhooks(policies: PolicySet, options: DeriveOptions): WebhookRule[] {
  const general: string[] = [];
  const scoped = new Map<string, { selector: LabelSelector; policies: LoadedPolicy[] }>();
  const all = [...policies.byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const policy of all.filter(isAutomatic)) {
    const selector = namespaceCondition(policy);
    if (selector === undefined) {
      general.push(podTerm(policy));
      continue;
    }
    const key = JSON.stringify(selector);
    const group = scoped.get(key) ?? { selector, policies: [] };
    group.policies.push(policy);
    scoped.set(key, group);
  }
  const notOptedOut = `!${annotationOptOutCel()} && !${labelOptOutCel(OPT_OUT_LIST)}`;
  const sentByGeneral =
    general.length === 0
      ? requestsCel()
      : `${requestsCel()} || (${notOptedOut} && (${anyOf(general)}))`;
  const rules: WebhookRule[] = [
    {
      name: GENERAL_WEBHOOK,
      namespaceSelector: withExclusions({}, options.excludeNamespaces),
      matchConditions: [{ name: 'requested-or-selected', expression: sentByGeneral }],
    },
  ];
  for (const { selector, policies: group } of scoped.values()) {
    const first = group[0]?.name ?? 'policy';
    rules.push({
      name: `${first}.namespace.tandem.dev`,
      namespaceSelector: withExclusions(selector, options.excludeNamespaces),
      objectSelector: {
        matchExpressions: [{ key: INJECT_LABEL, operator: 'NotIn', values: OPT_OUT_LIST }],
      },
      matchConditions: [
        { name: 'not-sent-by-inject', expression: `!(${sentByGeneral})` },
        { name: 'not-opted-out', expression: `!${annotationOptOutCel()}` },
        { name: 'selected', expression: anyOf(group.map(podTerm)) },
      ],
    });
  }
  return rules;
}

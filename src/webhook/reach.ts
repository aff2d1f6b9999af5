/**
 * Can a policy be reached through a webhook configuration? For each way a policy takes a
 * pod (requested by name; automatically, by labels or namespace), build one pod and one
 * namespace it would want, and ask the configuration whether the API server sends that
 * pod to tandem. A pod that is not sent proves the policy out of reach for it; the
 * message names the pod, so the admin can see which.
 */
import {
  INJECT_ANNOTATION,
  NAMESPACE_INJECTION_ENABLED,
  NAMESPACE_INJECTION_LABEL,
} from '../annotations.ts';
import { matchesSelector } from '../inject/selector.ts';
import { NAMESPACE_NAME_LABEL } from '../kube/namespaces.ts';
import { isAutomatic, type LoadedPolicy } from '../policy/compile.ts';
import type { LabelSelector } from '../policy/schema.ts';
import { whoSends, type PodCreate, type WebhookView } from './evaluate.ts';

/** Unreachable is one way a policy cannot be reached, at the field that makes it so. */
export interface Unreachable {
  readonly fieldPath: string;
  readonly message: string;
}

type Expression = NonNullable<LabelSelector['matchExpressions']>[number];

/** witnessValue is a value for `key` that its `In` or `Exists` expression accepts, if any. */
function witnessValue(
  expression: Expression,
  excluded: (key: string) => ReadonlySet<string>,
): string | undefined {
  const { key, operator, values = [] } = expression;
  const taken = excluded(key);
  if (operator === 'In') return values.find((v) => !taken.has(v));
  if (operator !== 'Exists') return undefined;
  return ['true', 'yes', 'x'].find((v) => !taken.has(v)) ?? `x${taken.size}`;
}

/** witnessLabels builds labels that satisfy `selector`, or undefined when none can. */
export function witnessLabels(
  selector: LabelSelector | undefined,
  base: Readonly<Record<string, string>> = {},
): Record<string, string> | undefined {
  const labels: Record<string, string> = { ...base, ...selector?.matchLabels };
  const expressions = selector?.matchExpressions ?? [];
  const excluded = (key: string): Set<string> =>
    new Set(
      expressions
        .filter((e) => e.key === key && e.operator === 'NotIn')
        .flatMap((e) => e.values ?? []),
    );
  for (const expression of expressions) {
    if (labels[expression.key] !== undefined) continue;
    const value = witnessValue(expression, excluded);
    if (value !== undefined) labels[expression.key] = value;
  }
  return selector === undefined || matchesSelector(selector, labels) ? labels : undefined;
}

/** witnessNamespace is a namespace `policy` accepts, named as its selector allows. */
function witnessNamespace(
  policy: LoadedPolicy,
  automatic: boolean,
): { name: string; labels: Record<string, string> } | undefined {
  const selector = policy.spec.namespaceSelector;
  const base =
    automatic && policy.spec.namespaceInjection === true
      ? { [NAMESPACE_INJECTION_LABEL]: NAMESPACE_INJECTION_ENABLED }
      : {};
  const labels = witnessLabels(selector, base);
  if (labels === undefined) return undefined;
  if (labels[NAMESPACE_NAME_LABEL] === undefined) {
    const candidate = ['default', 'apps', 'witness'].find((name) =>
      selector === undefined
        ? true
        : matchesSelector(selector, { ...labels, [NAMESPACE_NAME_LABEL]: name }),
    );
    if (candidate === undefined) return undefined;
    labels[NAMESPACE_NAME_LABEL] = candidate;
  }
  const name = labels[NAMESPACE_NAME_LABEL] ?? 'default';
  return { name, labels };
}

function describeLabels(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return pairs.length === 0 ? 'no labels' : `labels ${pairs.join(',')}`;
}

function podCreate(
  labels: Record<string, string>,
  annotations: Record<string, string>,
  namespace: { name: string; labels: Record<string, string> },
): PodCreate {
  return {
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName: 'witness-', namespace: namespace.name, labels, annotations },
      spec: { containers: [{ name: 'app', image: 'app' }] },
    },
    labels,
    namespace: namespace.name,
    namespaceLabels: namespace.labels,
  };
}

/** selectedField is the field that decides which pods an automatic policy selects. */
function selectedField(policy: LoadedPolicy): string {
  if (policy.spec.selector !== undefined) return 'spec.selector';
  return policy.spec.namespaceInjection === true
    ? 'spec.namespaceInjection'
    : 'spec.namespaceSelector';
}

/** unreachedAutomatically checks that a pod an automatic policy selects is sent to tandem. */
function unreachedAutomatically(
  policy: LoadedPolicy,
  webhooks: readonly WebhookView[],
  source: string,
): Unreachable[] {
  const podLabels = witnessLabels(policy.spec.selector);
  const namespace = witnessNamespace(policy, true);
  if (podLabels === undefined || namespace === undefined) {
    const fieldPath = podLabels === undefined ? 'spec.selector' : 'spec.namespaceSelector';
    return [
      {
        fieldPath,
        message: 'this selector can match nothing, so the policy is never applied automatically',
      },
    ];
  }
  const sending = whoSends(webhooks, podCreate(podLabels, {}, namespace));
  if (sending.sent) return [];
  return [
    {
      fieldPath: selectedField(policy),
      message: `${source} never sends tandem a pod this policy selects: a pod with ${describeLabels(podLabels)} in namespace "${namespace.name}" (${describeLabels(namespace.labels)}) is not sent: ${sending.reasons.join('; ')}`,
    },
  ];
}

/**
 * findUnreachable lists the ways `policy` cannot be reached through `webhooks`, which
 * `source` names in messages (a file, or "the generated configuration").
 */
export function findUnreachable(
  policy: LoadedPolicy,
  webhooks: readonly WebhookView[],
  source: string,
): Unreachable[] {
  const found: Unreachable[] = [];
  const requestedIn = witnessNamespace(policy, false);
  if (requestedIn === undefined) {
    return [
      {
        fieldPath: 'spec.namespaceSelector',
        message: 'no namespace can match this namespaceSelector, so no pod can use the policy',
      },
    ];
  }
  const asked = podCreate({}, { [INJECT_ANNOTATION]: policy.name }, requestedIn);
  const askedSending = whoSends(webhooks, asked);
  if (!askedSending.sent) {
    found.push({
      fieldPath:
        policy.spec.namespaceSelector === undefined ? 'metadata.name' : 'spec.namespaceSelector',
      message: `${source} never sends tandem a pod that requests this policy in namespace "${requestedIn.name}" (${describeLabels(requestedIn.labels)}): ${askedSending.reasons.join('; ')}`,
    });
  }
  if (!isAutomatic(policy)) return found;
  found.push(...unreachedAutomatically(policy, webhooks, source));
  return found;
}

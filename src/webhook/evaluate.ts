/**
 * whoSends answers, as the API server would, whether a webhook configuration sends a pod
 * CREATE to tandem: each webhook's namespaceSelector against the namespace's labels, its
 * objectSelector against the pod's, then its matchConditions, evaluated by a real CEL
 * evaluator (@bufbuild/cel) with the variables the API server binds. Used by `explain`
 * (why a pod never reaches tandem) and `lint` (a policy no pod can reach).
 */
import { run, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { matchesSelector, describeSelector } from '../inject/selector.ts';
import type { LabelSelector } from '../policy/schema.ts';
import type { MatchCondition } from './derive.ts';

/** WebhookView is the part of one MutatingWebhook that decides what it is sent. */
export interface WebhookView {
  readonly name: string;
  readonly namespaceSelector?: LabelSelector | undefined;
  readonly objectSelector?: LabelSelector | undefined;
  readonly matchConditions?: readonly MatchCondition[] | undefined;
}

/** PodCreate is one pod being created in a namespace. */
export interface PodCreate {
  /** pod is the object as the API server holds it (metadata, spec). */
  readonly pod: unknown;
  readonly labels: Readonly<Record<string, string>>;
  readonly namespace: string;
  readonly namespaceLabels: Readonly<Record<string, string>>;
}

/** Sending says which webhook sends the pod, or why none does. */
export type Sending =
  | { readonly sent: true; readonly webhook: string }
  | { readonly sent: false; readonly reasons: readonly string[] };

/**
 * toCel turns JSON into the values the API server's CEL sees: objects as maps, whole
 * numbers as int, the rest as they are.
 */
export function toCel(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') {
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)] as const));
  }
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  return null;
}

/** evaluateCondition runs one condition: true, false, or the error text. */
export function evaluateCondition(expression: string, create: PodCreate): boolean | string {
  const request = {
    operation: 'CREATE',
    namespace: create.namespace,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
  };
  try {
    const result = run(
      expression,
      { object: toCel(create.pod), oldObject: null, request: toCel(request) },
      { funcs: strings },
    );
    if (typeof result === 'boolean') return result;
    return `it gives ${typeof result}, not a bool`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** unmet names the first requirement of `selector` that `labels` do not meet. */
function unmet(selector: LabelSelector, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    matchLabels: { [key]: value },
  }));
  const requirements = (selector.matchExpressions ?? []).map((r) => ({ matchExpressions: [r] }));
  const first = [...pairs, ...requirements].find((one) => !matchesSelector(one, labels));
  return describeSelector(first ?? selector);
}

/** whyNotSent is undefined when `webhook` sends the pod, else the reason it does not. */
function whyNotSent(webhook: WebhookView, create: PodCreate): string | undefined {
  const { namespaceSelector, objectSelector } = webhook;
  if (
    namespaceSelector !== undefined &&
    !matchesSelector(namespaceSelector, create.namespaceLabels)
  ) {
    return `its namespaceSelector does not match: ${unmet(namespaceSelector, create.namespaceLabels)}`;
  }
  if (objectSelector !== undefined && !matchesSelector(objectSelector, create.labels)) {
    return `its objectSelector does not match the pod's labels: ${unmet(objectSelector, create.labels)}`;
  }
  for (const condition of webhook.matchConditions ?? []) {
    const result = evaluateCondition(condition.expression, create);
    if (result === true) continue;
    if (result === false) return `its matchCondition "${condition.name}" is false`;
    return `its matchCondition "${condition.name}" fails (${result}), and the API server then refuses the pod under failurePolicy Fail`;
  }
  return undefined;
}

/** whoSends tells whether any of `webhooks` sends the pod, naming the first that does. */
export function whoSends(webhooks: readonly WebhookView[], create: PodCreate): Sending {
  const reasons: string[] = [];
  for (const webhook of webhooks) {
    const why = whyNotSent(webhook, create);
    if (why === undefined) return { sent: true, webhook: webhook.name };
    reasons.push(`webhook ${webhook.name}: ${why}`);
  }
  if (webhooks.length === 0) reasons.push('the configuration has no webhooks');
  return { sent: false, reasons };
}

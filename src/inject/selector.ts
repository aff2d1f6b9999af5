/**
 * matchesSelector implements metav1.LabelSelector matching as the API server does: every
 * matchLabels pair and every matchExpressions requirement must hold; an empty selector
 * matches everything.
 */
import type { LabelSelector } from '../policy/schema.ts';

type Operator = NonNullable<LabelSelector['matchExpressions']>[number]['operator'];

/** OPERATORS holds each requirement operator's test, as the API server reads them. */
const OPERATORS: Record<
  Operator,
  (value: string | undefined, values: readonly string[]) => boolean
> = {
  In: (value, values) => value !== undefined && values.includes(value),
  // NotIn matches objects that lack the key, as in the API server.
  NotIn: (value, values) => value === undefined || !values.includes(value),
  Exists: (value) => value !== undefined,
  DoesNotExist: (value) => value === undefined,
};

/** matchesSelector tells whether `labels` satisfy `selector`. */
export function matchesSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((requirement) => {
    const value = Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined;
    return OPERATORS[requirement.operator](value, requirement.values ?? []);
  });
}

/** describeSelector renders a selector the way kubectl prints one: `app=web,tier in (a,b)`. */
export function describeSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    const values = (r.values ?? []).join(',');
    if (r.operator === 'In') parts.push(`${r.key} in (${values})`);
    if (r.operator === 'NotIn') parts.push(`${r.key} notin (${values})`);
    if (r.operator === 'Exists') parts.push(r.key);
    if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
  }
  return parts.length === 0 ? '(everything)' : parts.join(',');
}

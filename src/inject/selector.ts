/**
 * matchesSelector implements metav1.LabelSelector matching as the API server does: every
 * matchLabels pair and every matchExpressions requirement must hold; an empty selector
 * matches everything.
 */
import type { LabelSelector } from '../policy/schema.ts';

/** matchesSelector tells whether `labels` satisfy `selector`. */
export function matchesSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, requirement.key);
    const value = labels[requirement.key];
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case 'In':
        if (!has || value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        // NotIn matches objects that lack the key, as in the API server.
        if (has && value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
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

/**
 * joinDenials makes one denial of every problem found in one pod. A webhook answers a
 * denial with one message, which kubectl prints on one line; listing every problem there,
 * numbered, lets the author fix them all at once rather than one per attempt (issue 14).
 * The code is the first problem's (a metric label takes one value), and the policy is
 * named only when every problem is about the same one.
 */
import { denial, type Denial } from '../denial.ts';

/** joinDenials is `denials` as one; it takes at least one. */
export function joinDenials(denials: readonly [Denial, ...Denial[]]): Denial {
  const [first] = denials;
  if (denials.length === 1) return first;
  const reason = `${denials.length} problems: ${denials.map((d, i) => `(${i + 1}) ${d.reason}`).join('; ')}`;
  const samePolicy = denials.every((d) => d.policy === first.policy);
  return denial(first.code, reason, samePolicy ? first.policy : undefined);
}

/** isNonEmpty tells a list that holds at least one item. */
export function isNonEmpty<T>(items: readonly T[]): items is readonly [T, ...T[]] {
  return items.length > 0;
}

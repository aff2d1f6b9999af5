/**
 * Result is the engine's one shape for "a value, or the reason there is none". Every
 * stage returns one, with the warnings it raised, so a stage never writes into a list
 * another stage owns, and a denial keeps the warnings gathered before it (kubectl shows
 * them beside the denial).
 */
import type { Denial } from '../denial.ts';

/** Why is what a failure says: a Denial in the engine, a bare reason where no code applies. */
export interface Why {
  readonly reason: string;
}

/** Failed is a Result that carries no value: why, with the warnings raised before. */
export type Failed<W extends Why = Denial> = {
  readonly ok: false;
  readonly warnings: readonly string[];
} & W;

/** Result is a stage's value with its warnings, or why the pod is denied. */
export type Result<T, W extends Why = Denial> =
  { readonly ok: true; readonly value: T; readonly warnings: readonly string[] } | Failed<W>;

/** ok wraps a value and the warnings raised while finding it. */
export function ok<T>(value: T, warnings: readonly string[] = []): Result<T, never> {
  return { ok: true, value, warnings };
}

/** fail says why there is no value; `warnings` are those raised before. */
export function fail<W extends Why>(why: W, warnings: readonly string[] = []): Failed<W> {
  return { ...why, ok: false, warnings };
}

/** warnedEarlier puts `earlier` warnings ahead of a result's own. */
export function warnedEarlier<T, W extends Why>(
  earlier: readonly string[],
  result: Result<T, W>,
): Result<T, W> {
  if (earlier.length === 0) return result;
  return { ...result, warnings: [...earlier, ...result.warnings] };
}

/**
 * Result is the engine's one shape for "a value, or the reason there is none". Every
 * stage returns one, with the warnings it raised, so a stage never writes into a list
 * another stage owns, and a denial keeps the warnings gathered before it (kubectl shows
 * them beside the denial).
 */

/** Result is a stage's value with its warnings, or the reason the pod is denied. */
export type Result<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly warnings: readonly string[] };

/** Failed is a Result that carries no value, whatever value it stood in for. */
export type Failed = Extract<Result<never>, { ok: false }>;

/** ok wraps a value and the warnings raised while finding it. */
export function ok<T>(value: T, warnings: readonly string[] = []): Result<T> {
  return { ok: true, value, warnings };
}

/** fail says why there is no value; `warnings` are those raised before. */
export function fail(reason: string, warnings: readonly string[] = []): Failed {
  return { ok: false, reason, warnings };
}

/** warnedEarlier puts `earlier` warnings ahead of a result's own. */
export function warnedEarlier<T>(earlier: readonly string[], result: Result<T>): Result<T> {
  if (earlier.length === 0) return result;
  return { ...result, warnings: [...earlier, ...result.warnings] };
}

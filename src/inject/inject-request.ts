/**
 * parseInjectAnnotation reads `tandem.dev/inject`: the policies a pod asks for, in order,
 * or `false`/`none` to opt out of the automatic ones (SPEC §3 rule 1).
 */
import { OPT_OUT_VALUES } from '../annotations.ts';

/** InjectRequest is `tandem.dev/inject`, read. */
export interface InjectRequest {
  /** optOut: the pod turns automatic policies off. */
  readonly optOut: boolean;
  /** names are the policies requested, in order, each once. */
  readonly names: readonly string[];
  /** duplicates are the names the annotation repeats, for a warning. */
  readonly duplicates: readonly string[];
}

/** parseInjectAnnotation splits the annotation into names; `optOut` for `false`/`none`. */
export function parseInjectAnnotation(raw: string | undefined): InjectRequest {
  if (raw === undefined) return { optOut: false, names: [], duplicates: [] };
  const trimmed = raw.trim();
  if (OPT_OUT_VALUES.has(trimmed.toLowerCase())) return { optOut: true, names: [], duplicates: [] };
  // A set, not a scan of the names so far: the list is the pod author's to make long.
  const names = new Set<string>();
  const duplicates: string[] = [];
  for (const part of trimmed.split(',')) {
    const name = part.trim();
    if (name === '') continue;
    if (names.has(name)) duplicates.push(name);
    else names.add(name);
  }
  return { optOut: false, names: [...names], duplicates };
}

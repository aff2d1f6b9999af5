/**
 * The `tandem.dev/status` annotation: what tandem injected into a pod, so that a second
 * admission of the same pod (reinvocation, `kubectl get -o yaml | kubectl apply`) adds
 * nothing again and tandem can tell its own containers from the author's.
 */
import { STATUS_ANNOTATION } from '../annotations.ts';
import { isJsonObject } from '../json.ts';
import { denial } from '../denial.ts';
import { fail, ok, type Result } from './result.ts';
import type { SelectionReason } from './types.ts';

/** StatusEntry is one injected policy as the status annotation records it. */
export interface StatusEntry {
  readonly name: string;
  readonly hash: string;
  readonly reason: SelectionReason;
}

/** InjectionStatus is the parsed status annotation. */
export interface InjectionStatus {
  readonly policies: readonly StatusEntry[];
  /** containers and volumes tandem added, by name. */
  readonly containers: readonly string[];
  readonly volumes: readonly string[];
}

/** EMPTY_STATUS is the status of a pod tandem has not touched. */
export const EMPTY_STATUS: InjectionStatus = { policies: [], containers: [], volumes: [] };

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isStatusEntry(value: unknown): value is StatusEntry {
  return (
    isJsonObject(value) &&
    typeof value.name === 'string' &&
    typeof value.hash === 'string' &&
    (value.reason === 'annotation' || value.reason === 'selector' || value.reason === 'namespace')
  );
}

/**
 * parseStatus reads the annotation; a value that is not tandem's shape gives an error
 * message rather than a guess, since trusting a forged status would skip injection.
 */
export function parseStatus(raw: string | undefined): Result<InjectionStatus> {
  if (raw === undefined) return ok(EMPTY_STATUS);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail(denial('StatusInvalid', `annotation ${STATUS_ANNOTATION} is not valid JSON`));
  }
  const shapeError = fail(
    denial(
      'StatusInvalid',
      `annotation ${STATUS_ANNOTATION} is not one tandem wrote: expected {"policies":[{"name","hash","reason"}],"containers":[],"volumes":[]}`,
    ),
  );
  if (!isJsonObject(value) || !Array.isArray(value.policies)) return shapeError;
  const policies: unknown[] = value.policies;
  const entries = policies.filter(isStatusEntry);
  const { containers, volumes } = value;
  if (entries.length !== policies.length || !isStringArray(containers) || !isStringArray(volumes)) {
    return shapeError;
  }
  return ok({ policies: entries, containers, volumes });
}

/** serializeStatus writes the annotation value; keys in a fixed order so output is stable. */
export function serializeStatus(status: InjectionStatus): string {
  return JSON.stringify({
    policies: status.policies.map((p) => ({ name: p.name, hash: p.hash, reason: p.reason })),
    containers: status.containers,
    volumes: status.volumes,
  });
}

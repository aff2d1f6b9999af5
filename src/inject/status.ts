/**
 * The `tandem.dev/status` annotation: what tandem injected into a pod, so that a second
 * admission of the same pod (reinvocation, `kubectl get -o yaml | kubectl apply`) adds
 * nothing again, tandem can tell its own containers from the author's, and `tandem
 * uninject` can take out exactly what tandem put in (its `undo` record, undo.ts).
 */
import { STATUS_ANNOTATION } from '../annotations.ts';
import { isJsonObject } from '../json.ts';
import { denial } from '../denial.ts';
import { fail, ok, type Result } from './result.ts';
import type { SelectionReason } from './types.ts';
import { readUndo, writeUndo, type Undo } from './undo.ts';

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
  /**
   * undo is everything else tandem changed, for `tandem uninject`; undefined in a status
   * written before tandem recorded it, which uninject refuses to guess at.
   */
  readonly undo?: Undo | undefined;
}

/** EMPTY_STATUS is the status of a pod tandem has not touched. */
export const EMPTY_STATUS: InjectionStatus = { policies: [], containers: [], volumes: [] };

/** isEmptyStatus tells a status that records nothing: a pod tandem has not touched. */
export function isEmptyStatus(status: InjectionStatus): boolean {
  return status.policies.length + status.containers.length + status.volumes.length === 0;
}

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
 * message rather than a guess, since trusting a forged status would skip injection. Both
 * shapes tandem has written are read: with the `undo` record and, from before it, without.
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
      `annotation ${STATUS_ANNOTATION} is not one tandem wrote: expected {"policies":[{"name","hash","reason"}],"containers":[],"volumes":[],"undo":{}}`,
    ),
  );
  if (!isJsonObject(value) || !Array.isArray(value.policies)) return shapeError;
  const policies: unknown[] = value.policies;
  const entries = policies.filter(isStatusEntry);
  const { containers, volumes } = value;
  if (entries.length !== policies.length || !isStringArray(containers) || !isStringArray(volumes)) {
    return shapeError;
  }
  if (value.undo === undefined) return ok({ policies: entries, containers, volumes });
  const undo = readUndo(value.undo);
  if (undo === undefined) return shapeError;
  return ok({ policies: entries, containers, volumes, undo });
}

/** serializeStatus writes the annotation value; keys in a fixed order so output is stable. */
export function serializeStatus(status: InjectionStatus): string {
  return JSON.stringify({
    policies: status.policies.map((p) => ({ name: p.name, hash: p.hash, reason: p.reason })),
    containers: status.containers,
    volumes: status.volumes,
    ...(status.undo === undefined ? {} : { undo: writeUndo(status.undo) }),
  });
}

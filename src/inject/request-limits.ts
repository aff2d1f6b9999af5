/**
 * checkRequestLimits holds a pod to the caps of src/limits.ts before the engine reads
 * anything else of it, so a hostile pod is refused after one linear pass over its
 * annotations instead of after the work it asks for.
 */
import {
  INJECT_ANNOTATION,
  STATUS_ANNOTATION,
  TARGET_CONTAINERS_ANNOTATION,
} from '../annotations.ts';
import {
  MAX_ANNOTATIONS_BYTES,
  MAX_REQUESTED_POLICIES,
  MAX_STATUS_BYTES,
  MAX_TARGET_CONTAINERS,
} from '../limits.ts';

/** countListed counts the non-empty entries of a comma-separated annotation value. */
export function countListed(raw: string): number {
  let count = 0;
  for (const part of raw.split(',')) if (part.trim() !== '') count += 1;
  return count;
}

/**
 * annotationBytes is the annotations' size in UTF-8, as the API server counts it, or
 * undefined when it is plainly under `limit`: a UTF-16 unit is at most 3 bytes of UTF-8,
 * so the common small pod is judged by string lengths alone, without encoding anything.
 */
function annotationBytes(
  annotations: Readonly<Record<string, string>>,
  limit: number,
): number | undefined {
  let units = 0;
  for (const [key, value] of Object.entries(annotations)) units += key.length + value.length;
  if (units * 3 <= limit) return undefined;
  let total = 0;
  for (const [key, value] of Object.entries(annotations)) {
    total += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  return total;
}

function kib(bytes: number): string {
  return `${bytes / 1024} KiB`;
}

/** checkRequestLimits returns why the pod asks for more than tandem answers, or undefined. */
export function checkRequestLimits(
  annotations: Readonly<Record<string, string>>,
): string | undefined {
  const total = annotationBytes(annotations, MAX_ANNOTATIONS_BYTES);
  if (total !== undefined && total > MAX_ANNOTATIONS_BYTES) {
    return `the pod's annotations total ${total} bytes, over the ${kib(MAX_ANNOTATIONS_BYTES)} the API server accepts`;
  }
  const inject = annotations[INJECT_ANNOTATION];
  const requested = inject === undefined ? 0 : countListed(inject);
  if (requested > MAX_REQUESTED_POLICIES) {
    return `annotation ${INJECT_ANNOTATION} lists ${requested} policies; at most ${MAX_REQUESTED_POLICIES} may be requested`;
  }
  const targets = annotations[TARGET_CONTAINERS_ANNOTATION];
  const named = targets === undefined ? 0 : countListed(targets);
  if (named > MAX_TARGET_CONTAINERS) {
    return `annotation ${TARGET_CONTAINERS_ANNOTATION} names ${named} containers; at most ${MAX_TARGET_CONTAINERS} may be named`;
  }
  const status = annotations[STATUS_ANNOTATION];
  return status === undefined ? undefined : checkStatusLength(status);
}

/**
 * checkStatusLength says why a status value is over MAX_STATUS_BYTES. The engine also
 * runs it on the status it is about to write, so it never writes one it would refuse.
 */
export function checkStatusLength(status: string): string | undefined {
  const bytes = Buffer.byteLength(status);
  if (bytes <= MAX_STATUS_BYTES) return undefined;
  return `annotation ${STATUS_ANNOTATION} is ${bytes} bytes; tandem reads and writes at most ${kib(MAX_STATUS_BYTES)}`;
}

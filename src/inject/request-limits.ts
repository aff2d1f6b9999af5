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
import { denial, type Denial } from '../denial.ts';

/**
 * countListed counts the non-empty entries of a comma-separated annotation value, up to
 * `atMost + 1`: a value over its cap is refused after that many entries, whatever its
 * length, and without splitting the rest into strings.
 */
export function countListed(raw: string, atMost: number): number {
  let count = 0;
  for (let start = 0; start <= raw.length && count <= atMost;) {
    const comma = raw.indexOf(',', start);
    const end = comma < 0 ? raw.length : comma;
    if (raw.slice(start, end).trim() !== '') count += 1;
    start = end + 1;
  }
  return count;
}

/**
 * annotationBytes is a lower bound of the annotations' size in UTF-8, as the API server
 * counts it, exact whenever it matters: string lengths alone (one UTF-16 unit is 1 to 3
 * bytes) settle a small pod and a plainly oversized one without encoding anything, and
 * only annotations between a third of the limit and the limit are measured in bytes.
 */
function annotationBytes(annotations: Readonly<Record<string, string>>, limit: number): number {
  let units = 0;
  for (const [key, value] of Object.entries(annotations)) units += key.length + value.length;
  if (units * 3 <= limit || units > limit) return units;
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
): Denial | undefined {
  const total = annotationBytes(annotations, MAX_ANNOTATIONS_BYTES);
  if (total > MAX_ANNOTATIONS_BYTES) {
    return denial(
      'AnnotationsTooLarge',
      `the pod's annotations total at least ${total} bytes, over the ${kib(MAX_ANNOTATIONS_BYTES)} the API server accepts`,
    );
  }
  const inject = annotations[INJECT_ANNOTATION];
  if (
    inject !== undefined &&
    countListed(inject, MAX_REQUESTED_POLICIES) > MAX_REQUESTED_POLICIES
  ) {
    return denial(
      'TooManyPolicies',
      `annotation ${INJECT_ANNOTATION} lists more than ${MAX_REQUESTED_POLICIES} policies; at most ${MAX_REQUESTED_POLICIES} may be requested`,
    );
  }
  const targets = annotations[TARGET_CONTAINERS_ANNOTATION];
  if (
    targets !== undefined &&
    countListed(targets, MAX_TARGET_CONTAINERS) > MAX_TARGET_CONTAINERS
  ) {
    return denial(
      'TooManyTargetContainers',
      `annotation ${TARGET_CONTAINERS_ANNOTATION} names more than ${MAX_TARGET_CONTAINERS} containers; at most ${MAX_TARGET_CONTAINERS} may be named`,
    );
  }
  const status = annotations[STATUS_ANNOTATION];
  const tooLong = status === undefined ? undefined : checkStatusLength(status);
  return tooLong === undefined ? undefined : denial('StatusTooLarge', tooLong);
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

/**
 * readPod checks that a value has the shape of a pod where the engine reads it, so that
 * a malformed object (from a review, or a hand-written manifest) gets a clear message
 * instead of a crash. It checks only what injection touches; the API server validates
 * the rest after mutation.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isJsonObject, type JsonValue } from '../json.ts';
import { fail, ok, type Result, type Why } from './result.ts';

function isStringMap(value: JsonValue | undefined): boolean {
  return (
    value === undefined ||
    value === null ||
    (isJsonObject(value) && Object.values(value).every((v) => typeof v === 'string'))
  );
}

function isListOf(value: JsonValue | undefined, item: (v: JsonValue) => boolean): boolean {
  return value === undefined || value === null || (Array.isArray(value) && value.every(item));
}

const isNamed = (value: JsonValue): boolean =>
  isJsonObject(value) && typeof value.name === 'string';

/** CONTAINER_LISTS are the lists of a container the engine reads or appends to. */
const CONTAINER_LISTS = ['env', 'volumeMounts', 'ports'] as const;

function containerProblem(list: JsonValue | undefined, field: string): string | undefined {
  if (!isListOf(list, isNamed)) return `${field} is not a list of named containers`;
  if (!Array.isArray(list)) return undefined;
  // An index loop: entries() made a pair for each of a large pod's containers.
  for (let i = 0; i < list.length; i += 1) {
    const container = list[i];
    if (!isJsonObject(container)) continue;
    for (const key of CONTAINER_LISTS) {
      if (!isListOf(container[key], isJsonObject)) return `${field}[${i}].${key} is not a list`;
    }
  }
  return undefined;
}

/** metadataProblem says what is wrong with a pod's metadata, or undefined. */
function metadataProblem(metadata: JsonValue, root: string): string | undefined {
  if (!isJsonObject(metadata)) return `${root}.metadata is not an object`;
  const wrong = ['labels', 'annotations'].find((key) => !isStringMap(metadata[key]));
  if (wrong === undefined) return undefined;
  return `${root}.metadata.${wrong} is not a map of strings (quote values such as "false")`;
}

/** readPod returns the pod, or what is wrong with it, naming the field under `root`. */
export function readPod(object: JsonValue | undefined, root: string): Result<V1Pod, Why> {
  if (!isJsonObject(object)) return fail({ reason: `${root} is not an object` });
  const problem = metadataProblem(object.metadata ?? {}, root);
  if (problem !== undefined) return fail({ reason: problem });
  const spec = object.spec;
  if (!isJsonObject(spec)) return fail({ reason: `${root}.spec is not an object` });
  if (!Array.isArray(spec.containers))
    return fail({ reason: `${root}.spec.containers is not a list` });
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    const problem = containerProblem(spec[field], `${root}.spec.${field}`);
    if (problem !== undefined) return fail({ reason: problem });
  }
  if (!isListOf(spec.volumes, isNamed))
    return fail({ reason: `${root}.spec.volumes is not a list of named volumes` });
  return ok(object as unknown as V1Pod);
}

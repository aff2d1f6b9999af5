/**
 * buildPatch turns additions into RFC 6902 operations against the pod as given. The
 * operations are written from what is added, not diffed from a whole object, so that a
 * reviewer reads exactly what was injected: inserting native sidecars ahead of the pod's
 * init containers is a few `add` operations, not a cascade of `replace`s.
 */
import type { V1Pod } from '@kubernetes/client-node';
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { Additions } from './compose.ts';
import type { PodResourceChanges } from './pod-resources.ts';

const escape = jsonpatch.escapePathComponent;

/**
 * present tells whether a list or map is there to append to. A manifest may say
 * `volumes:` with nothing after it, which parses to null: as good as absent, and a
 * patch must then create it rather than append to it.
 */
function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** appendAll adds `items` to the array at `path`, creating the array when absent. */
function appendAll(
  ops: Operation[],
  path: string,
  exists: boolean,
  items: readonly unknown[],
): void {
  if (items.length === 0) return;
  if (!exists) {
    ops.push({ op: 'add', path, value: items });
    return;
  }
  for (const item of items) ops.push({ op: 'add', path: `${path}/-`, value: item });
}

function annotationOps(ops: Operation[], pod: V1Pod, annotations: Record<string, string>): void {
  if (Object.keys(annotations).length === 0) return;
  if (pod.metadata === undefined) {
    ops.push({ op: 'add', path: '/metadata', value: { annotations } });
    return;
  }
  const existing = pod.metadata.annotations;
  if (existing === undefined || existing === null) {
    ops.push({ op: 'add', path: '/metadata/annotations', value: annotations });
    return;
  }
  for (const [key, value] of Object.entries(annotations)) {
    const op = Object.hasOwn(existing, key) ? 'replace' : 'add';
    ops.push({ op, path: `/metadata/annotations/${escape(key)}`, value });
  }
}

/** resourceOps sets the pod-level figures tandem raised; each one is already there. */
function resourceOps(ops: Operation[], changes: PodResourceChanges): void {
  for (const kind of ['requests', 'limits'] as const) {
    for (const [name, value] of Object.entries(changes[kind])) {
      ops.push({ op: 'replace', path: `/spec/resources/${kind}/${escape(name)}`, value });
    }
  }
}

const NO_RESOURCE_CHANGES: PodResourceChanges = { requests: {}, limits: {} };

/** buildPatch returns the operations that add `additions` to `pod`. */
export function buildPatch(
  pod: V1Pod,
  additions: Additions,
  resources: PodResourceChanges = NO_RESOURCE_CHANGES,
): Operation[] {
  const ops: Operation[] = [];
  const spec = pod.spec;
  annotationOps(ops, pod, additions.annotations);
  resourceOps(ops, resources);
  appendAll(ops, '/spec/volumes', present(spec?.volumes), additions.volumes);
  if (additions.initContainers.length > 0) {
    if (!present(spec?.initContainers)) {
      ops.push({ op: 'add', path: '/spec/initContainers', value: additions.initContainers });
    } else {
      additions.initContainers.forEach((container, i) => {
        const index = additions.initInsertIndex + i;
        ops.push({ op: 'add', path: `/spec/initContainers/${index}`, value: container });
      });
    }
  }
  appendAll(ops, '/spec/containers', true, additions.containers);
  for (const target of additions.appContainers) {
    const container = spec?.containers[target.index];
    const base = `/spec/containers/${target.index}`;
    appendAll(ops, `${base}/volumeMounts`, present(container?.volumeMounts), target.volumeMounts);
    appendAll(ops, `${base}/env`, present(container?.env), target.env);
  }
  return ops;
}

/**
 * The `undo` record of `tandem.dev/status`: what tandem changed in a pod besides the
 * containers and volumes the status already lists by name, so that `tandem uninject`
 * takes out exactly that (uninject.ts). It names things, it does not copy them: the env
 * variables and mounts appended to each app container (by name and by path), the
 * annotations added (by key), the lists and maps tandem created where the pod had none
 * (and whether the pod had them as null), and each pod-level resource figure tandem
 * raised, with the value it had and the value tandem set. Only what is not empty is
 * written, and app containers that gained the same env and mounts share one entry, so a
 * pod that gained one sidecar carries a few dozen bytes more (README, "tandem uninject").
 */
import type { V1Pod } from '@kubernetes/client-node';
import { STATUS_ANNOTATION } from '../annotations.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { Additions } from './compose.ts';
import type { PodResourceChanges } from './pod-resources.ts';

/** Prior is what a list or map tandem created was before: not there, or null. */
export type Prior = 'absent' | 'null';

/** POD_FIELDS are the pod's fields tandem may create: `metadata`, its `annotations`, two lists of `spec`. */
export const POD_FIELDS = ['metadata', 'annotations', 'volumes', 'initContainers'] as const;
/** PodField is one of POD_FIELDS. */
export type PodField = (typeof POD_FIELDS)[number];

/** APP_FIELDS are the lists of an app container tandem may create. */
export const APP_FIELDS = ['env', 'volumeMounts'] as const;
/** AppField is one of APP_FIELDS. */
export type AppField = (typeof APP_FIELDS)[number];

/** AppUndo is what tandem appended to one app container. */
export interface AppUndo {
  /** env names the variables appended; tandem adds none the container already sets. */
  readonly env: readonly string[];
  /** mounts are the mountPaths appended; no two mounts of a container share one. */
  readonly mounts: readonly string[];
  readonly made: Readonly<Partial<Record<AppField, Prior>>>;
}

/** FigureUndo is one pod-level resource figure tandem raised: from `was` to `set`. */
export interface FigureUndo {
  readonly was: string | number;
  readonly set: string;
}

/** ResourceKind is `spec.resources.requests` or `.limits`. */
export type ResourceKind = 'requests' | 'limits';

/** Undo is the whole record. Maps are keyed by container and resource names. */
export interface Undo {
  readonly made: Readonly<Partial<Record<PodField, Prior>>>;
  /** annotations are the keys tandem added, its own status aside. */
  readonly annotations: readonly string[];
  readonly app: ReadonlyMap<string, AppUndo>;
  readonly resources: Readonly<Record<ResourceKind, ReadonlyMap<string, FigureUndo>>>;
}

const RESOURCE_KINDS: readonly ResourceKind[] = ['requests', 'limits'];

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** readMade reads a `made` map over `fields`; undefined when it is not one. */
function readMade<F extends string>(
  value: JsonValue | undefined,
  fields: readonly F[],
): Partial<Record<F, Prior>> | undefined {
  if (value === undefined) return {};
  if (!isJsonObject(value)) return undefined;
  const made: Partial<Record<F, Prior>> = {};
  for (const [key, prior] of Object.entries(value)) {
    const field = fields.find((f) => f === key);
    if (field === undefined || (prior !== 'absent' && prior !== 'null')) return undefined;
    made[field] = prior;
  }
  return made;
}

/**
 * readAppGroups reads the app record: a list of groups, each the containers that gained
 * the same env and mounts (most pods give every app container the same), so a pod of
 * many containers costs a name each.
 */
function readAppGroups(value: JsonValue): Map<string, AppUndo> | undefined {
  if (!Array.isArray(value)) return undefined;
  const app = new Map<string, AppUndo>();
  for (const group of value) {
    const read = readAppGroup(group);
    if (read === undefined) return undefined;
    for (const name of read.containers) app.set(name, read.undo);
  }
  return app;
}

/** readAppGroup reads one group: its containers and what they gained. */
function readAppGroup(
  group: JsonValue,
): { readonly containers: string[]; readonly undo: AppUndo } | undefined {
  if (!isJsonObject(group)) return undefined;
  const env = group.env ?? [];
  const mounts = group.mounts ?? [];
  const made = readMade(group.made, APP_FIELDS);
  const { containers } = group;
  if (!isStringArray(containers) || !isStringArray(env) || !isStringArray(mounts)) {
    return undefined;
  }
  return made === undefined ? undefined : { containers, undo: { env, mounts, made } };
}

function readFigures(value: JsonValue | undefined): Map<string, FigureUndo> | undefined {
  const figures = new Map<string, FigureUndo>();
  if (value === undefined) return figures;
  if (!isJsonObject(value)) return undefined;
  for (const [name, pair] of Object.entries(value)) {
    if (!Array.isArray(pair) || pair.length !== 2) return undefined;
    const [was, set] = pair;
    if ((typeof was !== 'string' && typeof was !== 'number') || typeof set !== 'string') {
      return undefined;
    }
    figures.set(name, { was, set });
  }
  return figures;
}

/** readUndo reads the record from the parsed status; undefined when it is not tandem's shape. */
export function readUndo(value: JsonValue): Undo | undefined {
  if (!isJsonObject(value)) return undefined;
  const made = readMade(value.made, POD_FIELDS);
  const annotations = value.annotations ?? [];
  const app = readAppGroups(value.app ?? []);
  const resources = readResources(value.resources ?? {});
  if (made === undefined || !isStringArray(annotations) || app === undefined) return undefined;
  return resources === undefined ? undefined : { made, annotations, app, resources };
}

/** readResources reads the pod-level figures tandem raised, requests and limits. */
function readResources(value: JsonValue): Undo['resources'] | undefined {
  if (!isJsonObject(value)) return undefined;
  const requests = readFigures(value.requests);
  const limits = readFigures(value.limits);
  return requests === undefined || limits === undefined ? undefined : { requests, limits };
}

/**
 * appGroupKey is what two containers share when they gained the same env and mounts and
 * made the same lists: each name length-prefixed, so no two different records meet.
 * Cheaper than stringifying each container's entry, which a 50-container pod did 50 times.
 */
function appGroupKey({ env, mounts, made }: AppUndo): string {
  let key = `${made.env ?? '-'} ${made.volumeMounts ?? '-'} ${env.length} ${mounts.length}`;
  for (const name of env) key += ` ${name.length}:${name}`;
  for (const path of mounts) key += ` ${path.length}:${path}`;
  return key;
}

/** appEntry is one group's record, leaving out what is empty. */
function appEntry({ env, mounts, made }: AppUndo): JsonObject {
  const entry: JsonObject = {};
  if (env.length > 0) entry.env = [...env];
  if (mounts.length > 0) entry.mounts = [...mounts];
  if (Object.keys(made).length > 0) entry.made = { ...made };
  return entry;
}

/** sameStrings: two lists of the same strings in the same order. */
function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/** sameAppUndo: two containers gained the same env and mounts and made the same lists. */
function sameAppUndo(a: AppUndo, b: AppUndo): boolean {
  return (
    a.made.env === b.made.env &&
    a.made.volumeMounts === b.made.volumeMounts &&
    sameStrings(a.env, b.env) &&
    sameStrings(a.mounts, b.mounts)
  );
}

/** AppGroup is the containers that gained one record. */
interface AppGroup {
  readonly containers: string[];
  readonly undo: AppUndo;
}

/** writeAppGroups groups the containers that gained the same env and mounts (readAppGroups). */
function writeAppGroups(app: ReadonlyMap<string, AppUndo>): JsonObject[] {
  const groups = new Map<string, AppGroup>();
  // Neighbours mostly gained the same (every container gets a policy's env alike), and
  // comparing with the last group costs no key.
  let last: AppGroup | undefined;
  for (const [name, undo] of app) {
    if (last !== undefined && sameAppUndo(last.undo, undo)) {
      last.containers.push(name);
      continue;
    }
    const key = appGroupKey(undo);
    last = groups.get(key);
    if (last === undefined) {
      last = { containers: [name], undo };
      groups.set(key, last);
    } else last.containers.push(name);
  }
  return [...groups.values()].map(({ containers, undo }) => ({ containers, ...appEntry(undo) }));
}

/** writeUndo is the record as JSON, leaving out what is empty. */
export function writeUndo(undo: Undo): JsonObject {
  const out: JsonObject = {};
  if (Object.keys(undo.made).length > 0) out.made = { ...undo.made };
  if (undo.annotations.length > 0) out.annotations = [...undo.annotations];
  if (undo.app.size > 0) out.app = writeAppGroups(undo.app);
  const resources: JsonObject = {};
  for (const kind of RESOURCE_KINDS) {
    const figures = undo.resources[kind];
    if (figures.size === 0) continue;
    resources[kind] = Object.fromEntries(
      [...figures].map(([name, f]): [string, JsonValue] => [name, [f.was, f.set]]),
    );
  }
  if (Object.keys(resources).length > 0) out.resources = resources;
  return out;
}

/** priorOf says what a list or map tandem is about to create was: absent or null; undefined when it is there. */
export function priorOf(value: unknown): Prior | undefined {
  if (value === undefined) return 'absent';
  return value === null ? 'null' : undefined;
}

/** recordApp is what one injection appended to the app containers, by container name. */
function recordApp(pod: V1Pod, additions: Additions): Map<string, AppUndo> {
  const app = new Map<string, AppUndo>();
  for (const target of additions.appContainers) {
    const container = pod.spec?.containers[target.index];
    if (container === undefined) continue;
    if (target.env.length + target.volumeMounts.length === 0) continue;
    const made: Partial<Record<AppField, Prior>> = {};
    const envPrior = target.env.length > 0 ? priorOf(container.env) : undefined;
    if (envPrior !== undefined) made.env = envPrior;
    const mountPrior = target.volumeMounts.length > 0 ? priorOf(container.volumeMounts) : undefined;
    if (mountPrior !== undefined) made.volumeMounts = mountPrior;
    app.set(container.name, {
      env: target.env.map((e) => e.name),
      mounts: target.volumeMounts.map((m) => m.mountPath),
      made,
    });
  }
  return app;
}

/** recordMade is which of the pod's fields one injection creates. */
function recordMade(pod: V1Pod, additions: Additions): Partial<Record<PodField, Prior>> {
  const made: Partial<Record<PodField, Prior>> = {};
  // tandem always writes its status, so the annotations exist afterwards.
  if (pod.metadata === undefined) made.metadata = 'absent';
  const annotations = priorOf(pod.metadata?.annotations);
  if (annotations !== undefined) made.annotations = annotations;
  const volumes = additions.volumes.length > 0 ? priorOf(pod.spec?.volumes) : undefined;
  if (volumes !== undefined) made.volumes = volumes;
  const inits = additions.initContainers.length > 0 ? priorOf(pod.spec?.initContainers) : undefined;
  if (inits !== undefined) made.initContainers = inits;
  return made;
}

/** recordUndo is what one injection changes in `pod` beyond its containers and volumes. */
export function recordUndo(pod: V1Pod, additions: Additions, changes: PodResourceChanges): Undo {
  const figures = (kind: ResourceKind): Map<string, FigureUndo> => {
    const now = pod.spec?.resources?.[kind] ?? {};
    const raised = new Map<string, FigureUndo>();
    for (const [name, set] of Object.entries(changes[kind])) {
      // Raised only where the pod sets the figure (pod-resources.ts), so `was` is there.
      const was: unknown = now[name];
      if (typeof was === 'string' || typeof was === 'number') raised.set(name, { was, set });
    }
    return raised;
  };
  return {
    made: recordMade(pod, additions),
    annotations: Object.keys(additions.annotations).filter((key) => key !== STATUS_ANNOTATION),
    app: recordApp(pod, additions),
    resources: { requests: figures('requests'), limits: figures('limits') },
  };
}

function mergeApp(earlier: AppUndo | undefined, later: AppUndo): AppUndo {
  if (earlier === undefined) return later;
  return {
    env: [...earlier.env, ...later.env],
    mounts: [...earlier.mounts, ...later.mounts],
    made: { ...later.made, ...earlier.made },
  };
}

/**
 * mergeUndo adds a later injection's record to an earlier one's: what the earlier one
 * created stays created, and a figure raised twice goes back to the value it had before
 * the first.
 */
export function mergeUndo(earlier: Undo, later: Undo): Undo {
  const app = new Map(earlier.app);
  for (const [name, entry] of later.app) app.set(name, mergeApp(app.get(name), entry));
  const figures = (kind: ResourceKind): Map<string, FigureUndo> => {
    const merged = new Map(earlier.resources[kind]);
    for (const [name, figure] of later.resources[kind]) {
      const first = merged.get(name);
      merged.set(name, first === undefined ? figure : { was: first.was, set: figure.set });
    }
    return merged;
  };
  return {
    made: { ...later.made, ...earlier.made },
    annotations: [...earlier.annotations, ...later.annotations],
    app,
    resources: { requests: figures('requests'), limits: figures('limits') },
  };
}

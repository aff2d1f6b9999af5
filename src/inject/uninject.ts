/**
 * uninjectPod takes out of a pod what tandem put in, as its `tandem.dev/status` records
 * it (status.ts, undo.ts), and nothing else: the containers and volumes it names, the env
 * variables and mounts appended to each app container, the annotations tandem added and
 * the status itself, the lists and maps tandem created, and the pod-level resource
 * figures it raised, set back. Like `linkerd uninject`, it needs no policies: things are
 * found by name, so a sidecar edited since injection still goes, as its name is tandem's.
 * A raised resource figure that someone changed since is kept, with a warning: it is no
 * longer tandem's number. Pure, like the engine: the CLI applies the patch.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { STATUS_ANNOTATION } from '../annotations.ts';
import { quoteValue } from './quote.ts';
import { checkStatusLength } from './request-limits.ts';
import { parseStatus, type InjectionStatus } from './status.ts';
import type { AppUndo, Prior, ResourceKind, Undo } from './undo.ts';

/** UninjectResult is what uninject makes of one pod. */
export type UninjectResult =
  | { readonly outcome: 'unchanged' }
  | {
      readonly outcome: 'patched';
      /** patch is RFC 6902 against the pod as given: `remove`, and `replace` for raised figures. */
      readonly patch: Operation[];
      readonly warnings: readonly string[];
    }
  | { readonly outcome: 'refused'; readonly reason: string };

const escape = jsonpatch.escapePathComponent;

/**
 * OLD_STATUS is why a status from before tandem kept the undo record is refused: it names
 * the containers and volumes, but not the env, mounts, annotations and resource figures,
 * and a guess at those could take out what the author wrote.
 */
const OLD_STATUS = `annotation ${STATUS_ANNOTATION} was written by a tandem older than uninject: it lists the containers and volumes tandem added but not its env variables, mounts, annotations and resource changes, so they cannot be taken out exactly; inject the original manifest with this tandem, or remove them by hand`;

/** Edit collects the operations and warnings for one pod. */
interface Edit {
  readonly ops: Operation[];
  readonly warnings: string[];
}

/** ListRemoval is what to take out of one list: which items, and whether tandem made the list. */
interface ListRemoval {
  readonly path: string;
  readonly items: readonly unknown[];
  readonly indices: ReadonlySet<number>;
  readonly made: Prior | undefined;
}

/**
 * removeItems removes from the list at `path` the items at `indices`, from the last so
 * each index still holds; when tandem created the list and nothing else is left in it,
 * the list goes back to what it was (absent or null).
 */
function removeItems(edit: Edit, { path, items, indices, made }: ListRemoval): void {
  if (indices.size === 0) return;
  if (made !== undefined && indices.size === items.length) {
    edit.ops.push(made === 'null' ? { op: 'replace', path, value: null } : { op: 'remove', path });
    return;
  }
  for (const index of [...indices].sort((a, b) => b - a)) {
    edit.ops.push({ op: 'remove', path: `${path}/${index}` });
  }
}

/** lastIndexOf finds the last item `key` names `wanted`, not already taken: tandem appended its own. */
function lastIndexOf<T>(
  items: readonly T[],
  key: (item: T) => unknown,
  wanted: string,
  taken: ReadonlySet<number>,
): number {
  for (let i = items.length - 1; i >= 0; i -= 1) {
    const item = items[i];
    if (item !== undefined && !taken.has(i) && key(item) === wanted) return i;
  }
  return -1;
}

/** pickNamed picks the items of `items` whose `key` is one of `wanted`, and says which are gone. */
function pickNamed<T>(
  items: readonly T[],
  key: (item: T) => unknown,
  wanted: readonly string[],
): { indices: Set<number>; gone: string[] } {
  const indices = new Set<number>();
  const gone: string[] = [];
  for (const name of wanted) {
    const index = lastIndexOf(items, key, name, indices);
    if (index < 0) gone.push(name);
    else indices.add(index);
  }
  return { indices, gone };
}

/** goneWarning says that things tandem added (`what`, singular) are not in the pod any more. */
function goneWarning(what: string, names: readonly string[], where: string): string | undefined {
  if (names.length === 0) return undefined;
  const listed = names.map(quoteValue).join(', ');
  const [noun, pronoun] = names.length === 1 ? [what, 'it'] : [`${what}s`, 'them'];
  return `${STATUS_ANNOTATION} records ${noun} ${listed}${where} that tandem added, but the pod no longer has ${pronoun}: nothing to remove`;
}

function warnGone(edit: Edit, what: string, names: readonly string[], where = ''): void {
  const warning = goneWarning(what, names, where);
  if (warning !== undefined) edit.warnings.push(warning);
}

/** AppList is one list of an app container and the items tandem added to it, by key. */
interface AppList<T> {
  readonly path: string;
  readonly items: readonly T[];
  readonly key: (item: T) => unknown;
  readonly added: readonly string[];
  readonly made: Prior | undefined;
  /** what names an item in the warning for one that is gone. */
  readonly what: string;
}

/** undoAppList takes the items tandem added out of one list, and warns of those gone. */
function undoAppList<T>(edit: Edit, list: AppList<T>, where: string): void {
  const picked = pickNamed(list.items, list.key, list.added);
  removeItems(edit, { ...list, indices: picked.indices });
  warnGone(edit, list.what, picked.gone, where);
}

/** undoApp takes tandem's env and mounts out of the app container `name`. */
function undoApp(edit: Edit, containers: readonly V1Container[], name: string, app: AppUndo): void {
  const index = containers.findIndex((c) => c.name === name);
  const container = containers[index];
  if (container === undefined) {
    warnGone(edit, 'app container', [name], ' (env variables and mounts)');
    return;
  }
  const base = `/spec/containers/${index}`;
  const where = ` in container ${quoteValue(name)}`;
  undoAppList(
    edit,
    {
      path: `${base}/env`,
      items: container.env ?? [],
      key: (e) => e.name,
      added: app.env,
      made: app.made.env,
      what: 'env variable',
    },
    where,
  );
  undoAppList(
    edit,
    {
      path: `${base}/volumeMounts`,
      items: container.volumeMounts ?? [],
      key: (m) => m.mountPath,
      added: app.mounts,
      made: app.made.volumeMounts,
      what: 'mount at',
    },
    where,
  );
}

/** undoContainers takes tandem's containers and volumes out, by the names the status lists. */
function undoContainers(edit: Edit, pod: V1Pod, status: InjectionStatus, undo: Undo): void {
  const spec = pod.spec;
  const inits = spec?.initContainers ?? [];
  const containers = spec?.containers ?? [];
  const volumes = spec?.volumes ?? [];
  const names = new Set(status.containers);
  const pickIn = (list: readonly { name: string }[]) =>
    new Set(list.flatMap((c, i) => (names.has(c.name) ? [i] : [])));
  const initIndices = pickIn(inits);
  const containerIndices = pickIn(containers);
  const found = new Set([...inits, ...containers].map((c) => c.name));
  warnGone(
    edit,
    'container',
    status.containers.filter((n) => !found.has(n)),
  );
  // Sidecars come after the app in classic mode: removed last, so app indices still hold.
  removeItems(edit, {
    path: '/spec/containers',
    items: containers,
    indices: containerIndices,
    made: undefined,
  });
  removeItems(edit, {
    path: '/spec/initContainers',
    items: inits,
    indices: initIndices,
    made: undo.made.initContainers,
  });
  const volumeNames = new Set(status.volumes);
  const volumeIndices = new Set(volumes.flatMap((v, i) => (volumeNames.has(v.name) ? [i] : [])));
  const present = new Set(volumes.map((v) => v.name));
  warnGone(
    edit,
    'volume',
    status.volumes.filter((n) => !present.has(n)),
  );
  removeItems(edit, {
    path: '/spec/volumes',
    items: volumes,
    indices: volumeIndices,
    made: undo.made.volumes,
  });
}

/** figureText shows a resource figure as the pod has it: unset, a quantity, or its JSON. */
function figureText(value: unknown): string {
  if (value === undefined) return 'unset';
  return typeof value === 'string' || typeof value === 'number'
    ? String(value)
    : JSON.stringify(value);
}

/** undoResources sets each raised figure back, where it still holds what tandem set. */
function undoResources(edit: Edit, pod: V1Pod, undo: Undo): void {
  for (const kind of ['requests', 'limits'] as const satisfies readonly ResourceKind[]) {
    const now: Readonly<Record<string, unknown>> = pod.spec?.resources?.[kind] ?? {};
    for (const [name, figure] of undo.resources[kind]) {
      const current = now[name];
      const path = `/spec/resources/${kind}/${escape(name)}`;
      if (current === figure.set) {
        edit.ops.push({ op: 'replace', path, value: figure.was });
      } else {
        edit.warnings.push(
          `spec.resources.${kind}.${name} is ${quoteValue(figureText(current))}, not the ${quoteValue(figure.set)} tandem set: kept as it is, rather than set back to ${quoteValue(String(figure.was))}`,
        );
      }
    }
  }
}

/** undoAnnotations removes tandem's annotations and its status, and a map tandem created. */
function undoAnnotations(edit: Edit, pod: V1Pod, undo: Undo): void {
  const annotations = pod.metadata?.annotations ?? {};
  const keys = [...new Set([...undo.annotations, STATUS_ANNOTATION])].filter((key) =>
    Object.hasOwn(annotations, key),
  );
  const left = Object.keys(annotations).length - keys.length;
  const made = undo.made.annotations;
  if (made !== undefined && left === 0) {
    const onlyAnnotations = Object.keys(pod.metadata ?? {}).length === 1;
    if (undo.made.metadata !== undefined && onlyAnnotations) {
      edit.ops.push({ op: 'remove', path: '/metadata' });
    } else if (made === 'null') {
      edit.ops.push({ op: 'replace', path: '/metadata/annotations', value: null });
    } else edit.ops.push({ op: 'remove', path: '/metadata/annotations' });
    return;
  }
  for (const key of keys) {
    edit.ops.push({ op: 'remove', path: `/metadata/annotations/${escape(key)}` });
  }
}

/** uninjectPod returns the patch that takes tandem's injection out of `pod` (module comment). */
export function uninjectPod(pod: V1Pod): UninjectResult {
  const raw = pod.metadata?.annotations?.[STATUS_ANNOTATION];
  if (raw === undefined) return { outcome: 'unchanged' };
  const tooLong = checkStatusLength(raw);
  if (tooLong !== undefined) return { outcome: 'refused', reason: tooLong };
  const parsed = parseStatus(raw);
  if (!parsed.ok) return { outcome: 'refused', reason: parsed.reason };
  const status = parsed.value;
  if (status.undo === undefined) return { outcome: 'refused', reason: OLD_STATUS };
  const { undo } = status;
  const edit: Edit = { ops: [], warnings: [] };
  // App containers first: removing classic sidecars from the same list comes after.
  const containers = pod.spec?.containers ?? [];
  for (const [name, app] of undo.app) undoApp(edit, containers, name, app);
  undoContainers(edit, pod, status, undo);
  undoResources(edit, pod, undo);
  undoAnnotations(edit, pod, undo);
  return { outcome: 'patched', patch: edit.ops, warnings: edit.warnings };
}

/**
 * A NamespaceDirectory from fixed tables, for runs without a cluster
 * (`tandem serve --no-cluster`, `tandem inject`): the labels and annotations come from
 * YAML files, each a map of namespace → labels (or annotations), instead of the apiserver.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { TandemError } from '../errors.ts';
import { isJsonObject } from '../json.ts';
import {
  NAMESPACE_NAME_LABEL,
  namespaceInfo,
  type NamespaceDirectory,
  type NamespaceInfo,
} from './namespaces.ts';

/** NamespaceLabelTable maps a namespace's name to its labels (or its annotations). */
export type NamespaceLabelTable = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * staticNamespaces answers from `table` and `annotations`; it is synced from the start.
 * Each namespace also gets the `kubernetes.io/metadata.name` label, which the apiserver
 * puts on all of them, so the table need not. A namespace in neither table is `undefined`.
 */
export function staticNamespaces(
  table: NamespaceLabelTable,
  annotations: NamespaceLabelTable = {},
): NamespaceDirectory {
  const infos = new Map<string, NamespaceInfo>();
  for (const name of new Set([...Object.keys(table), ...Object.keys(annotations)])) {
    const labels = { ...table[name], [NAMESPACE_NAME_LABEL]: name };
    infos.set(name, namespaceInfo(labels, annotations[name] ?? {}));
  }
  return { lookup: (name) => infos.get(name), synced: true };
}

function configError(message: string, cause?: unknown): TandemError {
  return new TandemError('TANDEM_ERR_CONFIG', message, cause === undefined ? {} : { cause });
}

/**
 * readNamespaceLabelsFile reads a YAML map of namespace → labels (a namespace with no
 * labels may be `~` or `{}`). An empty file is an empty table; anything else that is not
 * such a map throws TANDEM_ERR_CONFIG naming the file and the namespace.
 */
export function readNamespaceLabelsFile(
  path: string,
): Promise<Record<string, Record<string, string>>> {
  return readNamespaceTable(path, 'labels');
}

/** readNamespaceAnnotationsFile reads a YAML map of namespace → annotations, as the above. */
export function readNamespaceAnnotationsFile(
  path: string,
): Promise<Record<string, Record<string, string>>> {
  return readNamespaceTable(path, 'annotations');
}

/** stringsOf reads one namespace's map of strings (null is an empty one), or undefined. */
function stringsOf(value: unknown): Record<string, string> | undefined {
  if (value === null) return {};
  if (!isJsonObject(value)) return undefined;
  const entries = Object.entries(value);
  const strings = entries.filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  return strings.length === entries.length ? Object.fromEntries(strings) : undefined;
}

async function readNamespaceTable(
  path: string,
  what: 'labels' | 'annotations',
): Promise<Record<string, Record<string, string>>> {
  let data: unknown;
  try {
    data = parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw configError(`cannot read namespace ${what} from ${path}`, error);
  }
  if (data === null || data === undefined) return {};
  if (!isJsonObject(data)) throw configError(`${path}: expected a map of namespace to ${what}`);
  const table: Record<string, Record<string, string>> = {};
  for (const [namespace, labels] of Object.entries(data)) {
    const strings = stringsOf(labels);
    if (strings === undefined) {
      throw configError(
        `${path}: the ${what} of namespace "${namespace}" must be a map of strings`,
      );
    }
    table[namespace] = strings;
  }
  return table;
}

/**
 * A NamespaceDirectory from a table, for `tandem serve --no-cluster`: the labels come
 * from a YAML file (namespace → labels) instead of the apiserver.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { TandemError } from '../errors.ts';
import type { PodSecurityLevel } from '../inject/pod-security.ts';
import { isJsonObject } from '../json.ts';
import type { NamespaceDirectory, NamespaceInfo } from '../kube/namespaces.ts';

const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';
const NAME_LABEL = 'kubernetes.io/metadata.name';

function podSecurityLevel(labels: Readonly<Record<string, string>>): PodSecurityLevel | undefined {
  const level = labels[ENFORCE_LABEL];
  return level === 'privileged' || level === 'baseline' || level === 'restricted'
    ? level
    : undefined;
}

/** staticNamespaceDirectory answers from a fixed table; it is synced from the start. */
export function staticNamespaceDirectory(
  table: Readonly<Record<string, Readonly<Record<string, string>>>>,
): NamespaceDirectory {
  const infos = new Map<string, NamespaceInfo>();
  for (const [name, labels] of Object.entries(table)) {
    // The apiserver sets this label on every namespace (since 1.21), so the table need not.
    const all = { ...labels, [NAME_LABEL]: name };
    infos.set(name, { labels: all, podSecurityLevel: podSecurityLevel(all) });
  }
  return { lookup: (name) => infos.get(name), synced: true };
}

/** readNamespaceLabels reads `--namespace-labels`: a YAML map of namespace → label map. */
export async function readNamespaceLabels(
  file: string,
): Promise<Record<string, Record<string, string>>> {
  let data: unknown;
  try {
    data = parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new TandemError('TANDEM_ERR_CONFIG', `cannot read --namespace-labels ${file}`, {
      cause: error,
    });
  }
  const table: Record<string, Record<string, string>> = {};
  if (data === null || data === undefined) return table;
  if (!isJsonObject(data)) {
    throw new TandemError('TANDEM_ERR_CONFIG', `${file}: expected a map of namespace to labels`);
  }
  for (const [namespace, labels] of Object.entries(data)) {
    if (labels === null) {
      table[namespace] = {};
      continue;
    }
    if (!isJsonObject(labels) || !Object.values(labels).every((v) => typeof v === 'string')) {
      throw new TandemError(
        'TANDEM_ERR_CONFIG',
        `${file}: the labels of namespace "${namespace}" must be a map of strings`,
      );
    }
    table[namespace] = labels as Record<string, string>;
  }
  return table;
}

/**
 * The one rule for YAML aliases, shared by everything tandem reads (manifests for
 * `inject` and `explain`, policy files for `lint` and the webhook): a document may use
 * anchors and aliases as often as it likes, as long as it stays small once every alias is
 * expanded. The `yaml` package's own guard (`maxAliasCount`, 100 by default) counts
 * alias uses instead, so it refuses a legitimate manifest that names one anchor 101 times.
 */
import { isAlias, isCollection, isNode, isPair, visit, type Alias, type Document } from 'yaml';
import type { Node as YamlNode } from 'yaml';

/**
 * MAX_EXPANDED_NODES bounds a document once its aliases are expanded. Every node costs at
 * least two bytes of JSON, and the API server takes requests of at most 3 MiB, so no
 * object it accepts comes near a million nodes; a "billion laughs" document does.
 */
export const MAX_EXPANDED_NODES = 1_000_000;

/** aliasTargets maps each alias to its anchored node: the nearest one before it. */
function aliasTargets(document: Document): Map<Alias, YamlNode> {
  const anchors = new Map<string, YamlNode>();
  const targets = new Map<Alias, YamlNode>();
  visit(document, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target !== undefined) targets.set(node, target);
      } else if (node.anchor !== undefined) {
        anchors.set(node.anchor, node);
      }
    },
  });
  return targets;
}

/** countItems adds up a collection's items (a pair is its key and value), stopping past `limit`. */
function countItems(
  items: readonly unknown[],
  count: (node: unknown) => number,
  limit: number,
): number {
  let total = 0;
  for (const item of items) {
    total += isPair(item) ? count(item.key) + count(item.value) : count(item);
    if (total + 1 > limit) break;
  }
  return total;
}

/**
 * expandedNodeCount is how many nodes `document` holds with every alias replaced by a
 * copy of its anchor, counted in time linear in the document (each anchor once), and
 * capped just above `limit`. An alias inside its own anchor expands forever: Infinity.
 */
export function expandedNodeCount(document: Document, limit = MAX_EXPANDED_NODES): number {
  const targets = aliasTargets(document);
  const sizes = new Map<YamlNode, number>();
  const open = new Set<YamlNode>();
  const count = (node: unknown): number => {
    if (isAlias(node)) {
      const target = targets.get(node);
      return target === undefined ? 1 : count(target);
    }
    if (!isNode(node)) return node === null || node === undefined ? 0 : 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (open.has(node)) return Infinity;
    open.add(node);
    const total = 1 + (isCollection(node) ? countItems(node.items, count, limit) : 0);
    open.delete(node);
    sizes.set(node, total);
    return total;
  };
  return count(document.contents);
}

/**
 * aliasProblem says why `document` may not be expanded, or undefined when it may: its
 * aliases would take it past MAX_EXPANDED_NODES.
 */
export function aliasProblem(document: Document): string | undefined {
  const size = expandedNodeCount(document);
  if (size <= MAX_EXPANDED_NODES) return undefined;
  if (size === Infinity)
    return 'an alias refers to a node that contains it, so the document never ends';
  const limit = MAX_EXPANDED_NODES.toLocaleString('en-US');
  return `the document's aliases expand it to more than ${limit} nodes (a YAML alias bomb?)`;
}

/** DocumentValue is a document's value, or why it cannot be read. */
export type DocumentValue = { readonly value: unknown } | { readonly problem: string };

/** readDocumentValue turns a parsed document into plain values, after aliasProblem allows it. */
export function readDocumentValue(document: Document): DocumentValue {
  const problem = aliasProblem(document);
  if (problem !== undefined) return { problem };
  // Counted above; the package's own use-count guard would refuse legitimate reuse.
  return { value: document.toJS({ maxAliasCount: -1 }) as unknown };
}

/**
 * Aliases and merge keys, expanded as kubectl reads them, before tandem reads a manifest.
 *
 * go-yaml v2 (under kubectl's sigs.k8s.io/yaml) gives every alias its own copy of the
 * anchored node, and applies a map's pairs in order, each overriding what came before:
 * a key the map sets before its `<<` is overridden by the merged value, and in
 * `<<: [*a, *b]` the first map wins. The `yaml` package shares one object between an
 * anchor and its aliases and lets a map's own keys always win. Expanding both in the
 * document itself makes tandem's reading kubectl's, and lets the engine's patch change
 * one container without changing another that came from the same anchor.
 */
import { isAlias, isMap, isScalar, isSeq, visit, type Document } from 'yaml';
import type { Node as YamlNode, Pair, YAMLMap } from 'yaml';

/** keyText is a scalar key as it is named in JSON; undefined for other keys. */
export function keyText(key: unknown): string | undefined {
  if (!isScalar(key) || typeof key.value === 'symbol') return undefined;
  return String(key.value);
}

/** withoutAnchors is `node` with every anchor in it removed: a copy names no anchor twice. */
function withoutAnchors<T extends YamlNode>(node: T): T {
  visit(node, {
    Node(_key, child) {
      if (!isAlias(child)) delete child.anchor;
    },
  });
  return node;
}

/**
 * expandAliases replaces every alias by a copy of its anchored node. It runs in document
 * order, so an anchored node has no aliases left when it is copied. Run it only on a
 * document whose expanded size has been checked (yaml-aliases.ts).
 */
export function expandAliases(document: Document): void {
  const anchors = new Map<string, YamlNode>();
  visit(document, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target === undefined) throw new Error(`alias *${node.source} has no anchor`);
        return withoutAnchors(target.clone() as YamlNode);
      }
      if (node.anchor !== undefined) anchors.set(node.anchor, node);
      return undefined;
    },
  });
}

/** isMergeKey: a plain `<<` key, which the YAML 1.1 schema reads as a merge. */
function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const { value } = key;
  const plain = key.type === undefined || key.type === 'PLAIN';
  return (typeof value === 'symbol' && value.description === '<<') || (plain && value === '<<');
}

/** mergedMaps lists the maps a `<<` value names, in the order go-yaml v2 applies them. */
function mergedMaps(value: unknown): YAMLMap[] {
  const items: unknown[] = isSeq(value) ? value.items : [value];
  // The first map of a list wins, so it is applied last.
  return items.filter((item): item is YAMLMap => isMap(item)).reverse();
}

/** spellOut replaces one map's `<<` pairs by the pairs they bring in. */
function spellOut(map: YAMLMap): void {
  if (!map.items.some((pair) => isMergeKey(pair.key))) return;
  const byKey = new Map<string, Pair>();
  const others: Pair[] = [];
  const put = (pair: Pair): void => {
    const key = keyText(pair.key);
    if (key === undefined) {
      others.push(pair);
      return;
    }
    byKey.delete(key);
    byKey.set(key, pair);
  };
  for (const pair of map.items) {
    if (isMergeKey(pair.key))
      for (const source of mergedMaps(pair.value)) source.items.forEach(put);
    else put(pair);
  }
  map.items = [...byKey.values(), ...others];
}

/**
 * spellOutMergeKeys rewrites every map with `<<` keys into plain pairs, the innermost
 * first, so that a merged map has its own merges spelt out. Aliases must be expanded
 * first: each merged map is then used once, and its pairs can move.
 */
export function spellOutMergeKeys(document: Document): void {
  const maps: YAMLMap[] = [];
  visit(document, {
    Map(_key, map) {
      maps.push(map);
    },
  });
  // Reversed document order puts every map after the maps inside it.
  for (const map of maps.reverse()) spellOut(map);
}

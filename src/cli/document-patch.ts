/**
 * patchDocument applies the engine's JSON Patch to a parsed YAML document rather than to
 * its plain value, so that `tandem inject` writes back every node the patch does not
 * touch as the author wrote it: comments, quoting, `0755`, big integers. The document's
 * aliases and merge keys are already expanded (expand.ts), so a change lands in one
 * place only, as kubectl will read it.
 */
import { isMap, isNode, isSeq, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import type { Node } from 'yaml';
import type { Operation } from 'fast-json-patch';
import { keyText } from './expand.ts';

type Collection = YAMLMap | YAMLSeq;

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** pointerSegments splits an RFC 6901 pointer into its unescaped segments. */
function pointerSegments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map(unescapePointer);
}

/** child is the collection at `segment` of `parent`. */
function child(parent: Collection, segment: string): unknown {
  if (isSeq(parent)) return parent.items[seqIndex(parent, segment, false)];
  const pair = parent.items[lastPairIndex(parent, segment)];
  if (pair === undefined) throw new Error(`no key "${segment}"`);
  return pair.value;
}

/** lastPairIndex finds the pair kubectl reads for `key`: the last one. */
function lastPairIndex(map: YAMLMap, key: string): number {
  return map.items.findLastIndex((pair) => keyText(pair.key) === key);
}

function seqIndex(seq: YAMLSeq, segment: string, forAdd: boolean): number {
  if (segment === '-' && forAdd) return seq.items.length;
  const index = Number(segment);
  const limit = forAdd ? seq.items.length : seq.items.length - 1;
  if (!/^(0|[1-9][0-9]*)$/.test(segment) || index > limit) {
    throw new Error(`no list index "${segment}"`);
  }
  return index;
}

/** withCommentsOf gives a replacing node the comments of the node it replaces. */
function withCommentsOf(old: unknown, value: Node): Node {
  if (!isNode(old)) return value;
  if (value.commentBefore == null && old.commentBefore != null)
    value.commentBefore = old.commentBefore;
  if (value.comment == null && old.comment != null) value.comment = old.comment;
  return value;
}

/** AddOrReplace is the part of RFC 6902 the engine writes. */
type AddOrReplace = Operation & { readonly op: 'add' | 'replace' };

function applyToMap(document: Document, map: YAMLMap, key: string, op: AddOrReplace): void {
  const value = document.createNode(op.value, { aliasDuplicateObjects: false });
  const pair = map.items[lastPairIndex(map, key)];
  if (pair !== undefined) pair.value = withCommentsOf(pair.value, value);
  else map.items.push(document.createPair(key, value));
}

function applyToSeq(document: Document, seq: YAMLSeq, segment: string, op: AddOrReplace): void {
  const index = seqIndex(seq, segment, op.op === 'add');
  const value = document.createNode(op.value, { aliasDuplicateObjects: false });
  if (op.op === 'add') seq.items.splice(index, 0, value);
  else seq.items[index] = withCommentsOf(seq.items[index], value);
}

/** removeFrom removes the pair or item at `segment`; it must be there. */
function removeFrom(node: Collection, segment: string): void {
  if (isSeq(node)) {
    node.items.splice(seqIndex(node, segment, false), 1);
    return;
  }
  const index = lastPairIndex(node, segment);
  if (index < 0) throw new Error(`no key "${segment}"`);
  node.items.splice(index, 1);
}

/** parentOf walks `segments` from the document's root to the map or list an op edits. */
function parentOf(
  document: Document,
  segments: readonly string[],
  path: string,
): YAMLMap | YAMLSeq {
  let node: unknown = document.contents;
  for (const segment of segments) {
    if (!isMap(node) && !isSeq(node)) throw new Error(`no map or list on the way to ${path}`);
    node = child(node, segment);
  }
  if (!isMap(node) && !isSeq(node)) throw new Error(`no map or list at the end of ${path}`);
  return node;
}

/**
 * patchDocument applies `operations` to the node at `base` in `document`. The engine
 * writes `add` and `replace`, uninject `remove` and `replace`, computed on this
 * document's value, so another operation or a path that does not exist is a bug and
 * throws.
 */
export function patchDocument(
  document: Document,
  base: readonly string[],
  operations: readonly Operation[],
): void {
  for (const op of operations) {
    if (op.op !== 'add' && op.op !== 'replace' && op.op !== 'remove') {
      throw new Error(`unexpected operation ${op.op}`);
    }
    const segments = [...base, ...pointerSegments(op.path)];
    const last = segments.pop();
    if (last === undefined) throw new Error('a patch may not replace the whole document');
    const node = parentOf(document, segments, op.path);
    if (op.op === 'remove') removeFrom(node, last);
    else if (isMap(node)) applyToMap(document, node, last, op);
    else applyToSeq(document, node, last, op);
  }
}

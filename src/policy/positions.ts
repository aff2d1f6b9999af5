/**
 * Positions of fields inside a parsed YAML document. Validation speaks in field paths
 * (`spec.containers[0].image`, or ajv's JSON Pointers); people read files by line and
 * column. This module turns the one into the other, so that every issue can name both.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { Node as YamlNode } from 'yaml';

/** SourcePosition is a 1-based line and column in a file. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** FieldTarget says which part of a `key: value` pair a position should point at. */
export type FieldTarget = 'key' | 'value';

/** PathSegment is one step of a field path: a map key or a list index. */
export type PathSegment = string | number;

/** DocumentLocator finds field positions in one YAML document. */
export interface DocumentLocator {
  /** start is where the document's content begins (after `---` and leading comments). */
  readonly start: SourcePosition;
  /** locate finds `segments`, or the deepest part of it that exists. */
  locate(segments: readonly PathSegment[], target?: FieldTarget): SourcePosition;
  /** locateFieldPath does the same for a dotted field path like `spec.volumes[1].name`. */
  locateFieldPath(fieldPath: string, target?: FieldTarget): SourcePosition;
}

/** formatFieldPath renders segments in the dotted form issues use: `spec.containers[0].image`. */
export function formatFieldPath(segments: readonly PathSegment[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else path += path === '' ? segment : `.${segment}`;
  }
  return path;
}

/** pointerSegments splits a JSON Pointer (ajv's instancePath) into unescaped segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  // RFC 6901: `~1` is `/` and `~0` is `~`, unescaped in that order.
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * dataSegments types pointer segments by the data they walk: an index into an array is a
 * number, anything else a key (a label map may well have a key named "0").
 */
export function dataSegments(data: unknown, segments: readonly string[]): PathSegment[] {
  const typed: PathSegment[] = [];
  let current = data;
  for (const segment of segments) {
    if (Array.isArray(current)) {
      const index = Number(segment);
      typed.push(index);
      current = current[index] as unknown;
    } else {
      typed.push(segment);
      current =
        current !== null && typeof current === 'object'
          ? (current as Record<string, unknown>)[segment]
          : undefined;
    }
  }
  return typed;
}

function resolveAlias(node: unknown, document: Document): unknown {
  return isAlias(node) ? node.resolve(document) : node;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const range = (node as YamlNode).range;
    return range?.[0];
  }
  return undefined;
}

/**
 * findFieldPathKey matches the start of `rest` against the keys of a map. Keys are tried
 * longest first because a dotted path cannot tell `metadata.annotations.a.b/c` apart from
 * nested maps: the document can (annotation keys often hold dots).
 */
function findFieldPathKey(keys: readonly string[], rest: string): string | undefined {
  const sorted = [...keys].sort((a, b) => b.length - a.length);
  return sorted.find(
    (key) =>
      rest.startsWith(key) &&
      (rest.length === key.length || rest[key.length] === '.' || rest[key.length] === '['),
  );
}

/** PathStep is one segment of a field path, the node it leads to, and what is left. */
interface PathStep {
  readonly segment: PathSegment;
  readonly node: unknown;
  readonly rest: string;
}

/** indexStep reads a leading `[i]` of `rest`, or undefined when it does not start with one. */
function indexStep(rest: string, node: unknown, document: Document): PathStep | undefined {
  const index = /^\[(\d+)\]\.?/.exec(rest);
  if (index?.[1] === undefined) return undefined;
  const i = Number(index[1]);
  const next = isSeq(node) ? resolveAlias(node.items[i], document) : undefined;
  return { segment: i, node: next, rest: rest.slice(index[0].length) };
}

/** keyStep reads the longest key of the node's map that `rest` starts with. */
function keyStep(rest: string, node: unknown, document: Document): PathStep {
  const keys = isMap(node) ? node.items.map((pair) => keyText(pair.key) ?? '') : [];
  const key = findFieldPathKey(keys, rest) ?? /^[^.[]*/.exec(rest)?.[0] ?? '';
  // Not a path this module wrote (`[x]`?): keep the rest whole rather than loop on it.
  if (key === '') return { segment: rest, node: undefined, rest: '' };
  const pair = isMap(node) ? node.items.find((p) => keyText(p.key) === key) : undefined;
  const after = rest.slice(key.length);
  return {
    segment: key,
    node: isPair(pair) ? resolveAlias(pair.value, document) : undefined,
    rest: after.startsWith('.') ? after.slice(1) : after,
  };
}

/** fieldPathSegments splits a dotted field path by the keys that exist in the document. */
function fieldPathSegments(document: Document, fieldPath: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let node = resolveAlias(document.contents, document);
  let rest = fieldPath;
  while (rest !== '') {
    const step = indexStep(rest, node, document) ?? keyStep(rest, node, document);
    segments.push(step.segment);
    node = step.node;
    rest = step.rest;
  }
  return segments;
}

/**
 * Walk is the node a segment leads to, or where to stop: an offset, or undefined to stay
 * where the walk stands.
 */
type Walk = { readonly node: unknown } | { readonly stop: number | undefined };

/** walkInto follows one segment from `node`. */
function walkInto(
  node: unknown,
  segment: PathSegment,
  keyOfLast: boolean,
  document: Document,
): Walk {
  if (typeof segment === 'number' && isSeq(node)) {
    return { node: resolveAlias(node.items[segment], document) };
  }
  if (!isMap(node)) return { stop: undefined };
  const pair = node.items.find((p) => keyText(p.key) === String(segment));
  if (pair === undefined) return { stop: undefined };
  const keyStart = rangeStart(pair.key);
  if (keyOfLast) return { stop: keyStart };
  // `image:` with nothing after it has a null value node or none: point at the key.
  const value = resolveAlias(pair.value, document);
  return rangeStart(value) === undefined ? { stop: keyStart } : { node: value };
}

/** locateOffset walks the document and returns the offset of the deepest node it reaches. */
function locateOffset(
  document: Document,
  segments: readonly PathSegment[],
  target: FieldTarget,
): number {
  let node = resolveAlias(document.contents, document);
  let offset = rangeStart(node) ?? 0;
  for (const [i, segment] of segments.entries()) {
    const keyOfLast = i === segments.length - 1 && target === 'key';
    const walk = walkInto(node, segment, keyOfLast, document);
    if ('stop' in walk) return walk.stop ?? offset;
    node = walk.node;
    offset = rangeStart(node) ?? offset;
  }
  return offset;
}

/** createLocator builds a DocumentLocator for one parsed document of a file. */
export function createLocator(document: Document, lineCounter: LineCounter): DocumentLocator {
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const start = position(rangeStart(document.contents) ?? document.range?.[0] ?? 0);
  return {
    start,
    locate: (segments, target = 'value') => position(locateOffset(document, segments, target)),
    locateFieldPath: (fieldPath, target = 'value') =>
      position(locateOffset(document, fieldPathSegments(document, fieldPath), target)),
  };
}

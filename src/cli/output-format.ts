/**
 * How `tandem inject` writes what it read: YAML or JSON, as `-o` asks, else in the form
 * each document came in. A document written as JSON (`kubectl get -o json`) is written
 * back as JSON, a YAML one as YAML, and an untouched one byte for byte. `-o json` writes
 * one object, or a `kind: List` of all of them, as `kubectl get -o json` does.
 */
import { isMap, isScalar, isSeq, Scalar, visit, type Document } from 'yaml';
import { TandemError } from '../errors.ts';
import { keyText } from './expand.ts';

/** OutputFormat is what `-o` asks for; `source` keeps each document's own form. */
export type OutputFormat = 'source' | 'yaml' | 'json';

/** parseOutputFormat checks the `-o` flag. */
export function parseOutputFormat(value: string): OutputFormat {
  if (value === '') return 'source';
  if (value === 'yaml' || value === 'json') return value;
  throw new TandemError('TANDEM_ERR_CONFIG', `--output must be yaml or json, not "${value}"`);
}

/** OutputDocument is one document to write: as parsed (and patched), and its text. */
export interface OutputDocument {
  readonly document: Document;
  /** text is what the YAML output holds for it: its source, or the patched document. */
  readonly text: string;
  readonly changed: boolean;
}

/** isJsonDocument tells a document written as one JSON object. */
function isJsonDocument(document: Document): boolean {
  return isMap(document.contents) && document.contents.flow === true;
}

// JSON's own number syntax: such a number's source text is written as it was read, so
// no integer past 2^53 is rounded on the way through.
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/;

function scalarJson(node: Scalar): string {
  const { value } = node;
  if (typeof value === 'number' || typeof value === 'bigint') return numberJson(node, value);
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  return 'null';
}

/** numberJson writes a number as its source text when that is JSON, else as JavaScript does. */
function numberJson(node: Scalar, value: number | bigint): string {
  const source = node.srcToken?.type === 'scalar' ? node.srcToken.source : undefined;
  if (source !== undefined && JSON_NUMBER.test(source)) return source;
  return typeof value === 'bigint' || Number.isFinite(value) ? String(value) : 'null';
}

/** nodeJson writes a YAML node as JSON, indented four spaces a level as kubectl does. */
function nodeJson(node: unknown, indent: string): string {
  const inner = `${indent}    `;
  if (isMap(node)) {
    if (node.items.length === 0) return '{}';
    const pairs = node.items.map(
      (pair) =>
        `${inner}${JSON.stringify(keyText(pair.key) ?? '')}: ${nodeJson(pair.value, inner)}`,
    );
    return `{\n${pairs.join(',\n')}\n${indent}}`;
  }
  if (isSeq(node)) {
    if (node.items.length === 0) return '[]';
    return `[\n${node.items.map((item) => `${inner}${nodeJson(item, inner)}`).join(',\n')}\n${indent}]`;
  }
  return isScalar(node) ? scalarJson(node) : 'null';
}

/** asBlockYaml turns a JSON document into YAML's block style, for `-o yaml`. */
function asBlockYaml(document: Document): string {
  visit(document, {
    Collection(_, node) {
      node.flow = false;
    },
    Scalar(_, node) {
      // The writer quotes a string only where YAML 1.1 would read it as something else.
      if (typeof node.value === 'string') node.type = Scalar.PLAIN;
    },
  });
  return document.toString();
}

function withNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

/** jsonDocuments writes one object as itself, several (or none) as a kind List, as kubectl does. */
function jsonDocuments(documents: readonly OutputDocument[]): string {
  const objects = documents.filter(({ document }) => document.contents !== null);
  if (objects.length === 1) return `${nodeJson(objects[0]?.document.contents, '')}\n`;
  const values = objects.map(({ document }) => nodeJson(document.contents, '        '));
  const items = values.length === 0 ? '[]' : `[\n        ${values.join(',\n        ')}\n    ]`;
  return `{\n    "apiVersion": "v1",\n    "kind": "List",\n    "items": ${items}\n}\n`;
}

/** writeDocuments is the whole output of `tandem inject` in `format`. */
export function writeDocuments(documents: readonly OutputDocument[], format: OutputFormat): string {
  if (format === 'json') return jsonDocuments(documents);
  let written = '';
  for (const [index, { document, text, changed }] of documents.entries()) {
    if (!isJsonDocument(document) || (format === 'source' && !changed)) {
      written += text;
      continue;
    }
    // A document written anew starts on a line of its own.
    const start = withNewline(written);
    if (format === 'yaml')
      written = `${start}${index === 0 ? '' : '---\n'}${asBlockYaml(document)}`;
    else written = `${start}${nodeJson(document.contents, '')}\n`;
  }
  return written;
}

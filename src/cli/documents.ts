/**
 * Reading manifests for the offline verbs: a file or standard input, many YAML
 * documents, read as kubectl reads them (manifest-yaml.ts), each kept with its exact
 * source text so that a document tandem does not change is written back byte for byte.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { TandemError, messageOf } from '../errors.ts';
import { aliasProblem } from '../yaml-aliases.ts';
import { MANIFEST_YAML_OPTIONS } from './manifest-yaml.ts';
import { expandAliases, spellOutMergeKeys } from './expand.ts';

/** readManifestText reads `source`, where `-` means standard input. */
export async function readManifestText(source: string): Promise<string> {
  try {
    if (source !== '-') return await readFile(source, 'utf8');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    throw new TandemError('TANDEM_ERR_INPUT', `cannot read ${source}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** ManifestDocument is one parsed document, its value and its exact text. */
export interface ManifestDocument {
  /** document is the parsed document, its aliases and merge keys expanded; patch it to change it. */
  readonly document: Document;
  /** value is what kubectl reads: plain data, aliases and merge keys expanded. */
  readonly value: unknown;
  /**
   * text is the document's source exactly: from the end of the previous document to the
   * end of this one (the last one to the end of the input), so that the texts of all
   * documents, joined, are the input byte for byte.
   */
  readonly text: string;
}

/**
 * parseManifests parses every document. A syntax error, or aliases that expand past the
 * limit every YAML file tandem reads shares, names the source and line.
 */
export function parseManifests(text: string, source: string): ManifestDocument[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { ...MANIFEST_YAML_OPTIONS, lineCounter });
  let start = 0;
  return documents.map((document, index) => {
    const error = document.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0].line ?? 0;
      throw new TandemError('TANDEM_ERR_INPUT', `${source}:${line}: ${error.message}`);
    }
    const problem = aliasProblem(document);
    if (problem !== undefined) {
      const { line } = lineCounter.linePos(document.range[0]);
      throw new TandemError('TANDEM_ERR_INPUT', `${source}:${line}: ${problem}`);
    }
    // Expanded only now that the expansion is known to be small.
    expandAliases(document);
    spellOutMergeKeys(document);
    const value = document.toJS() as unknown;
    const end = index === documents.length - 1 ? text.length : document.range[2];
    const own = text.slice(start, end);
    start = end;
    return { document, value, text: own };
  });
}

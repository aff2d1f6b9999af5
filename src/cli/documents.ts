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
 * parseManifests parses every document. Syntax errors, and aliases that expand past the
 * limit every YAML file tandem reads shares, are all reported at once, each naming the
 * source, line and document, so one run shows every problem of the file.
 */
export function parseManifests(text: string, source: string): ManifestDocument[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { ...MANIFEST_YAML_OPTIONS, lineCounter });
  const problems: string[] = [];
  let start = 0;
  const parsed = documents.map((document, index): ManifestDocument | undefined => {
    for (const error of document.errors) {
      const line = error.linePos?.[0].line ?? 0;
      problems.push(`${source}:${line}: ${error.message}`);
    }
    const problem = document.errors.length === 0 ? aliasProblem(document) : undefined;
    if (problem !== undefined) {
      const { line } = lineCounter.linePos(document.range[0]);
      problems.push(`${source}:${line}: ${problem}`);
    }
    const end = index === documents.length - 1 ? text.length : document.range[2];
    const own = text.slice(start, end);
    start = end;
    if (document.errors.length > 0 || problem !== undefined) return undefined;
    // Expanded only now that the expansion is known to be small.
    expandAliases(document);
    spellOutMergeKeys(document);
    const value = document.toJS() as unknown;
    return { document, value, text: own };
  });
  if (problems.length > 0) {
    const message =
      problems.length === 1
        ? (problems[0] ?? '')
        : `${problems.length} problems:\n  ${problems.join('\n  ')}`;
    throw new TandemError('TANDEM_ERR_INPUT', message);
  }
  return parsed.filter((d): d is ManifestDocument => d !== undefined);
}

/**
 * Reading manifests for the offline verbs: a file or standard input, many YAML
 * documents, each kept as the `yaml` package's Document so that untouched documents are
 * written back as they came.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments, type Document } from 'yaml';
import { TandemError } from '../errors.ts';

/** readManifestText reads `source`, where `-` means standard input. */
export async function readManifestText(source: string): Promise<string> {
  try {
    if (source !== '-') return await readFile(source, 'utf8');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_INPUT',
      `cannot read ${source}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** ManifestDocument is one parsed document and its exact text, for writing it back untouched. */
export interface ManifestDocument {
  readonly document: Document;
  /** text is the document as written, comments included, without its `---` line. */
  readonly text: string;
}

/** parseManifests parses every document; a syntax error names the source and line. */
export function parseManifests(text: string, source: string): ManifestDocument[] {
  const documents = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(documents)) return [];
  let start = 0;
  return documents.map((document) => {
    const error = document.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0].line ?? 0;
      throw new TandemError('TANDEM_ERR_INPUT', `${source}:${line}: ${error.message}`);
    }
    // A document's range leaves out the comments before it; the text between the end of
    // the previous document and the end of this one is exactly what the author wrote.
    const end = document.range[2];
    const own = text.slice(start, end).replace(/^---[ \t]*\n/, '');
    start = end;
    return { document, text: own.endsWith('\n') || own === '' ? own : `${own}\n` };
  });
}

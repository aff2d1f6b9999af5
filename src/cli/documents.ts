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

/** parseManifests parses every document; a syntax error names the source and line. */
export function parseManifests(text: string, source: string): Document[] {
  const documents = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(documents)) return [];
  for (const document of documents) {
    const error = document.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0].line ?? 0;
      throw new TandemError('TANDEM_ERR_INPUT', `${source}:${line}: ${error.message}`);
    }
  }
  return documents;
}

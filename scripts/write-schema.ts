/**
 * Writes `schema/sidecarpolicy.schema.json`, the published JSON Schema of a policy file,
 * from the same TypeBox definition that the loader validates with, so the two cannot drift
 * (a test regenerates it and compares). Editors use it through a modeline:
 * `# yaml-language-server: $schema=../schema/sidecarpolicy.schema.json`.
 *
 * Run with `npm run schema`.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { SidecarPolicySchema } from '../src/policy/schema.ts';

/** SCHEMA_FILE is where the published schema lives in the repository. */
export const SCHEMA_FILE = fileURLToPath(
  new URL('../schema/sidecarpolicy.schema.json', import.meta.url),
);

/** renderSchema returns the schema file's content, formatted as the repository's Prettier does. */
export async function renderSchema(): Promise<string> {
  // The JSON round trip drops TypeBox's symbol-keyed metadata, which is not JSON Schema.
  const schema: unknown = JSON.parse(JSON.stringify(SidecarPolicySchema));
  const document = { $schema: 'http://json-schema.org/draft-07/schema#', ...(schema as object) };
  const options = (await resolveConfig(SCHEMA_FILE)) ?? {};
  return format(JSON.stringify(document, null, 2), { ...options, parser: 'json' });
}

if (import.meta.main) {
  await writeFile(SCHEMA_FILE, await renderSchema());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { renderSchema, SCHEMA_FILE } from '../../scripts/write-schema.ts';

t.test('the published schema is what `npm run schema` generates now', async (t) => {
  t.equal(await readFile(SCHEMA_FILE, 'utf8'), await renderSchema(), 'run `npm run schema`');
});

t.test('the published schema accepts the valid fixtures, as an editor would', async (t) => {
  const schema: unknown = JSON.parse(await readFile(SCHEMA_FILE, 'utf8'));
  const validate = new Ajv({ strict: false }).compile(schema as object);
  const file = join(import.meta.dirname, '..', 'fixtures', 'policies', 'valid', 'sidecars.yaml');
  const documents = parseAllDocuments(await readFile(file, 'utf8'));
  const policies = [...documents].map((d) => d.toJS() as unknown).filter((d) => d !== null);
  t.equal(policies.length, 2);
  for (const policy of policies) t.ok(validate(policy), JSON.stringify(validate.errors));
});

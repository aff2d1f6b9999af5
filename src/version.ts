/**
 * readVersion reads tandem's version from package.json, one folder above this file both
 * in a checkout (src/) and in the build (dist/), so there is one place to bump.
 */
import { readFileSync } from 'node:fs';

/** readVersion returns package.json's `version`. */
export function readVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/**
 * The node flags tandem's image runs it with: the Dockerfile's ENTRYPOINT, between node and
 * `dist/tandem.js` (`--max-semi-space-size`, README "Speed"). The bench starts every tandem
 * with them, so that what it measures is what ships.
 */
import { readFileSync } from 'node:fs';

/** imageNodeFlags reads the flags from a Dockerfile's text; it throws if the ENTRYPOINT is not as expected. */
export function imageNodeFlags(dockerfile: string): string[] {
  const line = dockerfile.split('\n').findLast((text) => text.startsWith('ENTRYPOINT '));
  const entrypoint: unknown = JSON.parse(line?.slice('ENTRYPOINT '.length) ?? 'null');
  if (!Array.isArray(entrypoint) || entrypoint.at(-1) !== 'dist/tandem.js') {
    throw new Error(`the Dockerfile's ENTRYPOINT does not end with dist/tandem.js: ${line}`);
  }
  return entrypoint.slice(1, -1).map(String);
}

/** imageNodeFlagsOf reads the flags from the Dockerfile at `path`. */
export function imageNodeFlagsOf(path: string): string[] {
  return imageNodeFlags(readFileSync(path, 'utf8'));
}

/**
 * `npm run deploy:render`: prints what `kubectl apply -k .` would apply, rendered by the
 * kubectl 1.35 (kustomize built in) from the devDependencies. Extra arguments go to
 * `kubectl kustomize`, e.g. a different directory.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureKubectl } from './kubectl.ts';

/** REPO_ROOT is the checkout, where the installing kustomization lives. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** renderDeploy runs `kubectl kustomize DIR` and returns the YAML stream. */
export async function renderDeploy(dir: string = REPO_ROOT): Promise<string> {
  const kubectl = await ensureKubectl();
  const { stdout } = await promisify(execFile)(kubectl, ['kustomize', dir], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(await renderDeploy(process.argv[2]));
}

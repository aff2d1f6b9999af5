/**
 * `tandem inject -f FILE|-`: offline injection, like `istioctl kube-inject`. Writes the
 * same documents with their pod templates injected; documents that are not workloads, or
 * that nothing applies to, come out exactly as they went in.
 */
import { parseArgs } from 'node:util';
import { loadPolicies } from '../policy/load.ts';
import { readManifestText, parseManifests } from './documents.ts';
import { injectManifests } from './manifests.ts';
import { OFFLINE_HELP, OFFLINE_OPTIONS, parseSidecarMode, reportFailure } from './offline.ts';

const HELP = `Usage: tandem inject -f FILE|- [options]

Reads Kubernetes manifests (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob; other documents pass through) and writes them with
the policies injected into each pod template. Exit 1 if any pod is denied; nothing is
written to standard output then.

Options:
${OFFLINE_HELP}`;

/** run executes `tandem inject`. */
export async function run(args: string[]): Promise<number> {
  try {
    const { values } = parseArgs({ args, options: OFFLINE_OPTIONS, strict: true });
    if (values.help === true) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.filename === undefined) {
      process.stderr.write(`tandem inject: -f FILE is required\n\n${HELP}`);
      return 2;
    }
    const sidecarMode = parseSidecarMode(values['sidecar-mode']);
    const policies = await loadPolicies(values.policies);
    const documents = parseManifests(await readManifestText(values.filename), values.filename);
    const result = injectManifests(documents, policies, {
      source: values.filename,
      defaultNamespace: values.namespace,
      sidecarMode,
    });
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    for (const denial of result.denials) process.stderr.write(`tandem inject: ${denial}\n`);
    if (result.denials.length > 0) return 1;
    process.stdout.write(result.documents.map((text) => `---\n${text}`).join(''));
    return 0;
  } catch (error) {
    if (
      error instanceof TypeError &&
      'code' in error &&
      String(error.code).startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`tandem inject: ${error.message}\n\n${HELP}`);
      return 2;
    }
    return reportFailure('inject', error);
  }
}

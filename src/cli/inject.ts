/**
 * `tandem inject -f FILE|-`: offline injection, like `istioctl kube-inject`. Writes the
 * same documents with their pod templates injected; documents that are not workloads, or
 * that nothing applies to, come out exactly as they went in.
 */
import { injectManifests } from './manifests.ts';
import { OFFLINE_HELP, runOfflineVerb } from './offline.ts';

const HELP = `Usage: tandem inject -f FILE|- [options]

Reads Kubernetes manifests (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob; other documents pass through) and writes them with
the policies injected into each pod template. Exit 1 if any pod is denied; nothing is
written to standard output then.

Options:
${OFFLINE_HELP}`;

/** run executes `tandem inject`. */
export function run(args: string[]): Promise<number> {
  return runOfflineVerb('inject', HELP, args, (input) => {
    const result = injectManifests(input.documents, input.policies, input);
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    for (const denial of result.denials) process.stderr.write(`tandem inject: ${denial}\n`);
    if (result.denials.length > 0) return 1;
    process.stdout.write(result.documents.join(''));
    return 0;
  });
}

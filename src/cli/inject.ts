/**
 * `tandem inject -f FILE|-`: offline injection, like `istioctl kube-inject`. Writes the
 * same documents with their pod templates injected; documents that are not workloads, or
 * that nothing applies to, come out exactly as they went in.
 */
import { injectManifests } from './manifests.ts';
import { OFFLINE_FLAGS, runOfflineVerb } from './offline.ts';

/** FLAGS are the flags of this verb. */
export const FLAGS = OFFLINE_FLAGS;

const VERB = {
  name: 'inject',
  usage: `Usage: tandem inject -f FILE|- [options]

Reads Kubernetes manifests (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob; other documents pass through) and writes them with
the policies injected into each pod template. Exit 1 if any pod is denied; nothing is
written to standard output then.
`,
  flags: FLAGS,
};

/** run executes `tandem inject`. */
export function run(args: string[]): Promise<number> {
  return runOfflineVerb(VERB, args, (input) => {
    const result = injectManifests(input.documents, input.policies, input);
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    for (const denial of result.denials) process.stderr.write(`tandem inject: ${denial}\n`);
    if (result.denials.length > 0) return 1;
    process.stdout.write(result.documents.join(''));
    return 0;
  });
}

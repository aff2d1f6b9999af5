/**
 * `tandem inject -f FILE|-`: offline injection, like `istioctl kube-inject`. Writes the
 * same documents with their pod templates injected; documents that are not workloads, or
 * that nothing applies to, come out exactly as they went in.
 */
import { injectManifests } from './manifests.ts';
import type { FlagTable } from './flags.ts';
import { OFFLINE_FLAGS, runOfflineVerb } from './offline.ts';
import { parseOutputFormat, writeDocuments } from './output-format.ts';

/** FLAGS are the flags of this verb. */
export const FLAGS = {
  ...OFFLINE_FLAGS,
  output: {
    type: 'string',
    short: 'o',
    arg: 'FORMAT',
    default: '',
    help: 'yaml or json; by default each document is written in the form it\ncame in (JSON as JSON), and one tandem does not change byte for byte',
  },
} as const satisfies FlagTable;

const VERB = {
  name: 'inject',
  usage: `Usage: tandem inject -f FILE|- [options]

Reads Kubernetes manifests, YAML or JSON (Pod, Deployment, StatefulSet, DaemonSet,
ReplicaSet, ReplicationController, Job, CronJob, and the items of a kind: List; other
documents pass through) and writes them with the policies injected into each pod
template. Exit 1 if any pod is denied; nothing is
written to standard output then.
`,
  flags: FLAGS,
};

/** run executes `tandem inject`. */
export function run(args: string[]): Promise<number> {
  return runOfflineVerb(VERB, args, (input, values) => {
    const format = parseOutputFormat(values.output);
    const result = injectManifests(input.documents, input.policies, input);
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    for (const denial of result.denials) process.stderr.write(`tandem inject: ${denial}\n`);
    if (result.denials.length > 0) return 1;
    const written = input.documents.map(({ document }, index) => ({
      document,
      text: result.documents[index] ?? '',
      changed: result.changed[index] === true,
    }));
    process.stdout.write(writeDocuments(written, format));
    return 0;
  });
}

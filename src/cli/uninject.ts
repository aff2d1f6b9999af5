/**
 * `tandem uninject -f FILE|-`: takes tandem's injection out of manifests, as `linkerd
 * uninject` does: what each pod template's `tandem.dev/status` records, and nothing the
 * author wrote. It needs no policies and no cluster: the status is the record
 * (src/inject/uninject.ts). Documents tandem did not inject come out as they went in.
 */
import { parseManifests, readManifestText } from './documents.ts';
import { reportFailure } from './failure.ts';
import { flagLines, parseFlags, type FlagTable } from './flags.ts';
import { OFFLINE_FLAGS } from './offline.ts';
import { FLAGS as INJECT_FLAGS } from './inject.ts';
import { parseOutputFormat, writeDocuments } from './output-format.ts';
import { uninjectManifests } from './uninject-manifests.ts';

/** FLAGS are the flags of this verb: the manifests to read and the form to write. */
export const FLAGS = {
  filename: OFFLINE_FLAGS.filename,
  output: INJECT_FLAGS.output,
} as const satisfies FlagTable;

const HELP = `Usage: tandem uninject -f FILE|- [options]

Reads Kubernetes manifests, YAML or JSON, the shapes tandem inject reads (Pod,
Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob,
and the items of a kind: List), and writes them with tandem's injection taken out: the
containers, volumes, env variables, mounts, annotations and resource changes that each
pod template's tandem.dev/status records, and the status itself. What the author wrote
stays; documents tandem did not inject pass through unchanged. No policies are read.
Exit 1 if a status cannot be undone (not tandem's, or written by a tandem before
uninject); nothing is written to standard output then.

Options:
${flagLines(FLAGS)}`;

/** run executes `tandem uninject`. */
export async function run(args: string[]): Promise<number> {
  try {
    const parsed = parseFlags(FLAGS, args);
    if (parsed.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const source = parsed.values.filename;
    if (source === undefined) {
      process.stderr.write(`tandem uninject: -f FILE is required\n\n${HELP}`);
      return 2;
    }
    const format = parseOutputFormat(parsed.values.output);
    const documents = parseManifests(await readManifestText(source), source);
    const result = uninjectManifests(documents, source);
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    for (const problem of result.problems) process.stderr.write(`tandem uninject: ${problem}\n`);
    if (result.problems.length > 0) return 1;
    const written = documents.map(({ document }, index) => ({
      document,
      text: result.documents[index] ?? '',
      changed: result.changed[index] === true,
    }));
    process.stdout.write(writeDocuments(written, format));
    return 0;
  } catch (error) {
    return reportFailure('uninject', HELP, error);
  }
}

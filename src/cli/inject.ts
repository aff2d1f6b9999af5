/**
 * `tandem inject -f FILE|-`: offline injection, like `istioctl kube-inject`. Writes the
 * same documents with their pod templates injected; documents that are not workloads, or
 * that nothing applies to, come out exactly as they went in.
 */
import jsonpatch from 'fast-json-patch';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { injectPod } from '../inject/engine.ts';
import { workloadName } from '../inject/workloads.ts';
import { loadPolicies } from '../policy/load.ts';
import { readManifestText, parseManifests } from './documents.ts';
import {
  OFFLINE_HELP,
  OFFLINE_OPTIONS,
  offlineContext,
  parseSidecarMode,
  reportFailure,
  workloadPod,
} from './offline.ts';

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
    const output: string[] = [];
    let failures = 0;
    for (const [index, document] of documents.entries()) {
      const workload = workloadPod(document, values.namespace);
      const result =
        workload === undefined
          ? undefined
          : injectPod(workload.pod, policies, offlineContext(workload.namespace, sidecarMode));
      const where =
        workload === undefined
          ? ''
          : `${values.filename}: document ${index + 1} (${workloadName(workload.document)})`;
      for (const warning of result?.warnings ?? [])
        process.stderr.write(`warning: ${where}: ${warning}\n`);
      if (workload === undefined || result === undefined || result.outcome === 'unchanged') {
        output.push(document.toString());
        continue;
      }
      if (result.outcome === 'denied') {
        process.stderr.write(`tandem inject: ${where}: denied: ${result.reason}\n`);
        failures += 1;
        continue;
      }
      const pod = jsonpatch.applyPatch(workload.pod, result.patch, true, true).newDocument;
      // applyPatch may replace metadata (when it was absent): put both back in the document.
      Object.assign(workload.template, { metadata: pod.metadata, spec: pod.spec });
      output.push(stringify(workload.document));
    }
    if (failures > 0) return 1;
    process.stdout.write(
      output.map((text) => (text.startsWith('---') ? text : `---\n${text}`)).join(''),
    );
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

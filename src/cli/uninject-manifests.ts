/**
 * uninjectManifests takes tandem's injection out of every pod template in a stream of
 * documents, walked as `tandem inject` walks them (document-workloads.ts): a workload's
 * template, each item of a `kind: List`. What tandem did not inject is written back byte
 * for byte; an uninjected document is patched in its YAML, so its comments stay.
 */
import { uninjectPod } from '../inject/uninject.ts';
import { workloadName } from '../inject/workloads.ts';
import type { ManifestDocument } from './documents.ts';
import { patchDocument } from './document-patch.ts';
import { documentWorkloads } from './document-workloads.ts';
import { injectedText } from './manifests.ts';

/** UninjectedManifests is the documents to write, or the problems that stop the write. */
export interface UninjectedManifests {
  /** documents are the texts to write, one for each document read (manifests.ts). */
  readonly documents: readonly string[];
  readonly changed: readonly boolean[];
  /** problems are the pods whose status cannot be undone, each named by document. */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  readonly uninjected: number;
}

/** uninjectManifests uninjects each pod template of `documents`; `source` names them in messages. */
export function uninjectManifests(
  documents: readonly ManifestDocument[],
  source: string,
): UninjectedManifests {
  const output: string[] = [];
  const changed: boolean[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  let uninjected = 0;
  for (const [index, { document, value, text }] of documents.entries()) {
    let patched = false;
    // The namespace plays no part: uninject reads only the pod.
    for (const { path, where: part, workload } of documentWorkloads(value, '')) {
      const at = `${source}: document ${index + 1}${part}`;
      if ('problem' in workload) {
        problems.push(`${at}: ${workload.problem}`);
        continue;
      }
      const where = `${at} (${workloadName(workload.document)})`;
      const result = uninjectPod(workload.pod);
      if (result.outcome === 'refused') problems.push(`${where}: ${result.reason}`);
      if (result.outcome !== 'patched') continue;
      for (const warning of result.warnings) warnings.push(`${where}: ${warning}`);
      patchDocument(document, [...path, ...workload.templatePath], result.patch);
      patched = true;
      uninjected += 1;
    }
    output.push(patched ? injectedText(document, text, output.at(-1) ?? '') : text);
    changed.push(patched);
  }
  return { documents: output, changed, problems, warnings, uninjected };
}

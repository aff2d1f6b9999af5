/**
 * injectManifests runs the engine over every pod template in a stream of YAML documents.
 * It is what `tandem inject` does between reading and writing, kept apart so that tests
 * drive it over hundreds of manifests without a process each.
 */
import jsonpatch from 'fast-json-patch';
import type { ManifestDocument } from './documents.ts';
import { injectPod } from '../inject/engine.ts';
import { workloadName } from '../inject/workloads.ts';
import type { NamespaceDirectory } from '../kube/namespaces.ts';
import type { PolicySet, SidecarMode } from '../policy/compile.ts';
import { offlineContext, workloadPod } from './offline.ts';

/** ManifestOptions are the offline settings for a stream. */
export interface ManifestOptions {
  readonly source: string;
  readonly defaultNamespace: string;
  readonly sidecarMode: SidecarMode;
  readonly namespaces: NamespaceDirectory;
}

/** ManifestResult is the documents to write, or the denials that stop the write. */
export interface ManifestResult {
  /** documents, each as YAML text without a leading `---`. */
  readonly documents: readonly string[];
  readonly denials: readonly string[];
  readonly warnings: readonly string[];
  readonly injected: number;
}

function withoutMarker(text: string): string {
  return text.startsWith('---\n') ? text.slice(4) : text;
}

/** injectManifests injects each workload's pod template; other documents pass through. */
export function injectManifests(
  documents: readonly ManifestDocument[],
  policies: PolicySet,
  options: ManifestOptions,
): ManifestResult {
  const output: string[] = [];
  const denials: string[] = [];
  const warnings: string[] = [];
  let injected = 0;
  for (const [index, { document, text }] of documents.entries()) {
    const workload = workloadPod(document, options.defaultNamespace);
    if (workload === undefined) {
      output.push(text);
      continue;
    }
    if ('problem' in workload) {
      denials.push(`${options.source}: document ${index + 1}: ${workload.problem}`);
      continue;
    }
    const where = `${options.source}: document ${index + 1} (${workloadName(workload.document)})`;
    const context = offlineContext(workload.namespace, options.sidecarMode, options.namespaces);
    const result = injectPod(workload.pod, policies, context);
    for (const warning of result.warnings) warnings.push(`${where}: ${warning}`);
    if (result.outcome === 'denied') {
      denials.push(`${where}: denied: ${result.reason}`);
      continue;
    }
    if (result.outcome === 'unchanged') {
      output.push(text);
      continue;
    }
    const pod = jsonpatch.applyPatch(workload.pod, result.patch, true, true).newDocument;
    // applyPatch may replace metadata (when it was absent): put both back in the document.
    Object.assign(workload.template, { metadata: pod.metadata, spec: pod.spec });
    // Replacing the contents keeps the document's leading comment (a manifest's header).
    document.contents = document.createNode(workload.document);
    output.push(withoutMarker(document.toString()));
    injected += 1;
  }
  return { documents: output, denials, warnings, injected };
}

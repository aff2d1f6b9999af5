/**
 * injectManifests runs the engine over every pod template in a stream of YAML documents.
 * It is what `tandem inject` does between reading and writing, kept apart so that tests
 * drive it over hundreds of manifests without a process each.
 */
import type { Document } from 'yaml';
import type { ManifestDocument } from './documents.ts';
import { injectPod } from '../inject/engine.ts';
import { workloadName } from '../inject/workloads.ts';
import { injectContext, type NamespaceDirectory } from '../kube/namespaces.ts';
import type { PolicySet } from '../policy/compile.ts';
import type { SidecarMode } from '../sidecar-mode.ts';
import { patchDocument } from './document-patch.ts';
import { documentWorkloads } from './document-workloads.ts';
import { offlineSidecars } from './offline.ts';

/** ManifestOptions are the offline settings for a stream. */
export interface ManifestOptions {
  readonly source: string;
  readonly defaultNamespace: string;
  readonly sidecarMode: SidecarMode;
  readonly namespaces: NamespaceDirectory;
}

/** ManifestResult is the documents to write, or the denials that stop the write. */
export interface ManifestResult {
  /**
   * documents are the texts to write, one for each document read, joined with nothing
   * in between: an untouched document's text is its source exactly.
   */
  readonly documents: readonly string[];
  /** changed tells, for each document, whether it was injected. */
  readonly changed: readonly boolean[];
  readonly denials: readonly string[];
  readonly warnings: readonly string[];
  readonly injected: number;
}

/**
 * injectedText (also uninject's) writes a patched document in place of `source`: the blank lines that led
 * the source, then the document with its comments, `---` and directives.
 */
export function injectedText(document: Document, source: string, before: string): string {
  const text = (/^\s*/.exec(source)?.[0] ?? '') + document.toString();
  // An empty document before it may end in `---` with no newline.
  return before === '' || before.endsWith('\n') || text.startsWith('\n') ? text : `\n${text}`;
}

/** injectManifests injects each workload's pod template, a List's items too; other documents pass through. */
export function injectManifests(
  documents: readonly ManifestDocument[],
  policies: PolicySet,
  options: ManifestOptions,
): ManifestResult {
  const output: string[] = [];
  const changed: boolean[] = [];
  const denials: string[] = [];
  const warnings: string[] = [];
  let injected = 0;
  const sidecars = offlineSidecars(options.sidecarMode);
  for (const [index, { document, value, text }] of documents.entries()) {
    let patched = false;
    for (const { path, where: part, workload } of documentWorkloads(
      value,
      options.defaultNamespace,
    )) {
      const at = `${options.source}: document ${index + 1}${part}`;
      if ('problem' in workload) {
        denials.push(`${at}: ${workload.problem}`);
        continue;
      }
      const where = `${at} (${workloadName(workload.document)})`;
      const context = injectContext(options.namespaces, workload.namespace, sidecars);
      const result = injectPod(workload.pod, policies, context);
      for (const warning of result.warnings) warnings.push(`${where}: ${warning}`);
      if (result.outcome === 'denied') denials.push(`${where}: denied: ${result.reason}`);
      if (result.outcome !== 'patched') continue;
      // Patched in the YAML itself: what the patch does not touch is written as it was read.
      patchDocument(document, [...path, ...workload.templatePath], result.patch);
      patched = true;
      injected += 1;
    }
    output.push(patched ? injectedText(document, text, output.at(-1) ?? '') : text);
    changed.push(patched);
  }
  return { documents: output, changed, denials, warnings, injected };
}

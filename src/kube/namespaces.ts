/**
 * What the engine's context needs to know about a namespace. The AdmissionReview does not
 * carry namespace labels or annotations, so the server asks a NamespaceDirectory: an informer-backed
 * cache in a cluster, a static table for local runs.
 */
import { PARAM_ANNOTATION_SUFFIX } from '../annotations.ts';
import type { PodSecurityLevel } from '../rules/pod-security.ts';
import type { InjectContext } from '../inject/types.ts';
import type { SidecarSettings } from '../sidecar-mode.ts';

/** NamespaceInfo is what tandem knows of one namespace. */
export interface NamespaceInfo {
  readonly labels: Readonly<Record<string, string>>;
  /**
   * annotations are the namespace's param values, its `<policy>.tandem.dev/<param>`
   * annotations; tandem keeps no other annotation (kubectl's last-applied copy of the
   * whole object, say, would cost memory for every namespace and serve nothing).
   */
  readonly annotations: Readonly<Record<string, string>>;
  /** podSecurityLevel comes from the `pod-security.kubernetes.io/enforce` label. */
  readonly podSecurityLevel: PodSecurityLevel | undefined;
}

/** NamespaceDirectory answers namespace lookups without I/O on the admission path. */
export interface NamespaceDirectory {
  /**
   * lookup returns undefined for a namespace it does not know. It returns the same object
   * for a namespace until the namespace changes, and a new one after: the answer cache
   * (server/answer-cache.ts) tells a changed namespace by that identity.
   */
  lookup(name: string): NamespaceInfo | undefined;
  /** synced is true once the directory has a complete view (always true for a static one). */
  readonly synced: boolean;
}

/** POD_SECURITY_ENFORCE_LABEL is the namespace label Pod Security admission enforces. */
export const POD_SECURITY_ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

/** NAMESPACE_NAME_LABEL is the label the apiserver sets on every namespace (since 1.21). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * namespaceInfo builds what tandem keeps of a namespace from its labels. An enforce label
 * whose value is not a level counts as `restricted`, as Pod Security admission reads it
 * (pod-security-admission's `PolicyToEvaluate`: "If labels cannot be parsed correctly, the
 * values of restricted and latest are used").
 */
export function namespaceInfo(
  labels: Readonly<Record<string, string>>,
  annotations: Readonly<Record<string, string>> = {},
): NamespaceInfo {
  const kept = paramAnnotations(annotations);
  const level = labels[POD_SECURITY_ENFORCE_LABEL];
  if (level === undefined) return { labels, annotations: kept, podSecurityLevel: undefined };
  const known = level === 'privileged' || level === 'baseline' || level === 'restricted';
  return { labels, annotations: kept, podSecurityLevel: known ? level : 'restricted' };
}

/** paramAnnotations keeps the `<policy>.tandem.dev/<param>` annotations of a namespace. */
function paramAnnotations(
  annotations: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) {
    if (key.indexOf(PARAM_ANNOTATION_SUFFIX) > 0) kept[key] = value;
  }
  return kept;
}

/**
 * lookupNamespace asks `directory`, and for a namespace it does not know gives the one
 * label the apiserver puts on every namespace, so namespaceSelectors on the name work.
 */
export function lookupNamespace(directory: NamespaceDirectory, name: string): NamespaceInfo {
  return directory.lookup(name) ?? namespaceInfo({ [NAMESPACE_NAME_LABEL]: name });
}

/**
 * injectContext is the engine's context for a pod in `namespace`: what `directory` knows
 * of the namespace, and the decided sidecar settings. The webhook and the offline verbs
 * both build it here, so the engine cannot see two versions of one admission.
 */
export function injectContext(
  directory: NamespaceDirectory,
  namespace: string,
  sidecars: SidecarSettings,
): InjectContext {
  const info = lookupNamespace(directory, namespace);
  return {
    namespace,
    namespaceLabels: info.labels,
    namespaceAnnotations: info.annotations,
    sidecarMode: sidecars.sidecarMode,
    nativeSidecarsSupported: sidecars.nativeSidecarsSupported,
    podSecurityLevel: info.podSecurityLevel,
  };
}

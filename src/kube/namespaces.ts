/**
 * What the engine's context needs to know about a namespace. The AdmissionReview does not
 * carry namespace labels, so the server asks a NamespaceDirectory: an informer-backed
 * cache in a cluster, a static table for local runs.
 */
import type { PodSecurityLevel } from '../inject/pod-security.ts';

/** NamespaceInfo is what tandem knows of one namespace. */
export interface NamespaceInfo {
  readonly labels: Readonly<Record<string, string>>;
  /** podSecurityLevel comes from the `pod-security.kubernetes.io/enforce` label. */
  readonly podSecurityLevel: PodSecurityLevel | undefined;
}

/** NamespaceDirectory answers namespace lookups without I/O on the admission path. */
export interface NamespaceDirectory {
  /** lookup returns undefined for a namespace it does not know. */
  lookup(name: string): NamespaceInfo | undefined;
  /** synced is true once the directory has a complete view (always true for a static one). */
  readonly synced: boolean;
}

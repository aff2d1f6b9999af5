/**
 * The pod templates in one document: the document's own, or, in a `kind: List` (what
 * `kubectl get deploy -o yaml` prints), each item's, as istioctl kube-inject and
 * linkerd inject read them.
 */
import { isJsonObject } from '../json.ts';
import { workloadPod, type WorkloadPod } from './offline.ts';

/** DocumentWorkload is one pod template found in a document. */
export interface DocumentWorkload {
  /** path leads from the document's root to the workload: empty, or `items/N` in a List. */
  readonly path: readonly string[];
  /** where says which part of the document it is in messages: '' or ` item N`. */
  readonly where: string;
  readonly workload: WorkloadPod | { readonly problem: string };
}

/**
 * isListKind tells a list of objects: `List`, or a typed list such as `DeploymentList`
 * (what the API returns), with its `items`.
 */
function isListKind(value: unknown): value is { readonly items: readonly unknown[] } {
  return (
    isJsonObject(value) &&
    typeof value.kind === 'string' &&
    value.kind.endsWith('List') &&
    Array.isArray(value.items)
  );
}

/** documentWorkloads lists the pod templates of a document's value, in order. */
export function documentWorkloads(value: unknown, defaultNamespace: string): DocumentWorkload[] {
  if (isListKind(value)) {
    return value.items.flatMap((item, index) => {
      const workload = workloadPod(item, defaultNamespace);
      if (workload === undefined) return [];
      return [{ path: ['items', String(index)], where: ` item ${index + 1}`, workload }];
    });
  }
  const workload = workloadPod(value, defaultNamespace);
  return workload === undefined ? [] : [{ path: [], where: '', workload }];
}

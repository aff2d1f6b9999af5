/**
 * Annotation keys tandem reads and writes, in one place so that no module spells
 * them on its own (SPEC §1).
 */

/** INJECT_ANNOTATION lists the policies a pod asks for, in order; `false` or `none` opts out. */
export const INJECT_ANNOTATION = 'tandem.dev/inject';

/** TARGET_CONTAINERS_ANNOTATION names the app containers that get a policy's mounts and env. */
export const TARGET_CONTAINERS_ANNOTATION = 'tandem.dev/target-containers';

/** STATUS_ANNOTATION records what tandem injected; only tandem writes it. */
export const STATUS_ANNOTATION = 'tandem.dev/status';

/** DEFAULT_CONTAINER_ANNOTATION is kubectl's: which container `logs` and `exec` reach by default. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/** PARAM_ANNOTATION_SUFFIX joins a policy name and a param: `<policy>.tandem.dev/<param>`. */
export const PARAM_ANNOTATION_SUFFIX = '.tandem.dev/';

/** OPT_OUT_VALUES are the values of INJECT_ANNOTATION that turn automatic injection off. */
export const OPT_OUT_VALUES: ReadonlySet<string> = new Set(['false', 'none']);

/**
 * NAMESPACE_INJECTION_LABEL on a namespace: `enabled` turns on the policies with
 * `namespaceInjection: true` for every pod in it (Istio's `istio-injection`); `disabled`
 * keeps the whole namespace away from tandem (the webhook's namespaceSelector).
 */
export const NAMESPACE_INJECTION_LABEL = 'tandem.dev/injection';

/** NAMESPACE_INJECTION_ENABLED and _DISABLED are the values of NAMESPACE_INJECTION_LABEL. */
export const NAMESPACE_INJECTION_ENABLED = 'enabled';
export const NAMESPACE_INJECTION_DISABLED = 'disabled';

/**
 * INJECT_LABEL on a pod, `false` or `none`, opts it out of automatic policies as the
 * annotation does; a label, as Istio's `sidecar.istio.io/inject`, so that the webhook's
 * objectSelector can leave the pod out without a call.
 */
export const INJECT_LABEL = 'tandem.dev/inject';

/** paramAnnotationKey is the annotation a pod's author sets to give `param` to `policy`. */
export function paramAnnotationKey(policy: string, param: string): string {
  return `${policy}${PARAM_ANNOTATION_SUFFIX}${param}`;
}

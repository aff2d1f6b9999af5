/**
 * Restricted Pod Security Standard defaults for injected containers (SPEC §3 rule 5).
 * They go UNDER the policy's own securityContext: a policy that sets a field keeps it.
 */
import type { V1Container, V1SecurityContext } from '@kubernetes/client-node';

/**
 * DEFAULT_RUN_AS_USER is the user (and group) of an injected container whose policy names
 * none: 65532, distroless's `nonroot`, a uid no image's files belong to by accident.
 */
export const DEFAULT_RUN_AS_USER = 65532;

/**
 * nonRootDefaults makes the container's user explicit. An injected container cannot lean
 * on the pod's securityContext: under a pod `runAsUser: 0` it would inherit root and the
 * kubelet refuses `runAsNonRoot` with uid 0 (CreateContainerConfigError), and with no
 * user anywhere the kubelet needs the image's USER to be numeric and not 0. So the
 * container carries its own non-zero user; a policy that asks for uid 0, or says
 * `runAsNonRoot: false`, gets neither default, as they would contradict it.
 */
function nonRootDefaults(own: V1SecurityContext): V1SecurityContext {
  if (own.runAsUser === 0 || own.runAsNonRoot === false) return {};
  if (own.runAsUser !== undefined) return { runAsNonRoot: true };
  // A group of its own too: a uid the image does not know would otherwise run with the
  // pod's runAsGroup, or gid 0.
  return { runAsNonRoot: true, runAsUser: DEFAULT_RUN_AS_USER, runAsGroup: DEFAULT_RUN_AS_USER };
}

/**
 * withRestrictedDefaults returns `container` with the restricted defaults filled in where
 * the policy left a field unset.
 */
export function withRestrictedDefaults(container: V1Container): V1Container {
  const own: V1SecurityContext = container.securityContext ?? {};
  const added = own.capabilities?.add ?? [];
  const securityContext: V1SecurityContext = {
    // The API server rejects allowPrivilegeEscalation=false together with privileged or
    // CAP_SYS_ADMIN, so the default is left out where the policy asks for either.
    ...(own.privileged === true || added.includes('SYS_ADMIN')
      ? {}
      : { allowPrivilegeEscalation: false }),
    ...nonRootDefaults(own),
    // The container's own profile wins over the pod's, so a pod-level Unconfined or
    // Localhost profile does not reach the sidecar.
    seccompProfile: { type: 'RuntimeDefault' },
    ...own,
    capabilities: { ...own.capabilities, drop: own.capabilities?.drop ?? ['ALL'] },
  };
  return { ...container, securityContext };
}

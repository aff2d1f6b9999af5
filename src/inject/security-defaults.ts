/**
 * Restricted Pod Security Standard defaults for injected containers (SPEC §3 rule 5).
 * They go UNDER the policy's own securityContext: a policy that sets a field keeps it.
 */
import type { V1Container, V1SecurityContext } from '@kubernetes/client-node';

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
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
    ...own,
    capabilities: { ...own.capabilities, drop: own.capabilities?.drop ?? ['ALL'] },
  };
  return { ...container, securityContext };
}

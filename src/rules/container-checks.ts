/**
 * Checks on rendered containers that a param value can break even when the policy is
 * sound: two mounts meeting at one path, a mount of a volume nobody adds, a port out of
 * range, or a port or port name already in use in the pod (pod-claims.ts says what
 * clashes). Each would otherwise reach the user as the API server's rejection, or as a
 * container that cannot bind, with tandem's part unnamed.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { denial, type Denial } from '../denial.ts';
import {
  ClaimBook,
  forEachPortClaim,
  isPortNumber,
  mountPathClaim,
  portClaims,
  type Claim,
} from './pod-claims.ts';

/**
 * PortHolder is who holds a port or port name: a container of the pod, or of a policy
 * (`policy`). Kept as it is and put into words only for a clash (describeHolder): a pod
 * of many containers books every port, and a clash is rare.
 */
interface PortHolder {
  readonly container: V1Container;
  /** index is the port's place in the container's `ports`. */
  readonly index: number;
  readonly policy?: string;
}

/** PortBook records who holds each port and port name of the pod. */
export type PortBook = ClaimBook<PortHolder>;

/** listener names a port's side of a clash: the container, and the port's name if it has one. */
function listener(container: V1Container, index: number): string {
  const port = container.ports?.[index]?.name;
  return port === undefined
    ? `container "${container.name}"`
    : `port "${port}" of container "${container.name}"`;
}

/**
 * describeHolder is a holder as a message says it: `container "app" of the pod`,
 * `port "x" of container "y" of policy "p"`.
 */
function describeHolder({ container, index, policy }: PortHolder): string {
  const owner = policy === undefined ? 'the pod' : `policy "${policy}"`;
  return `${listener(container, index)} of ${owner}`;
}

/** bookPodPorts lists the ports and port names the pod's own containers already declare. */
export function bookPodPorts(pod: V1Pod): PortBook {
  const book: PortBook = new ClaimBook();
  const spec = pod.spec;
  for (const [list, init] of [
    [spec?.initContainers ?? [], true],
    [spec?.containers ?? [], false],
  ] as const) {
    for (const container of list) {
      forEachPortClaim(container, init, (kind, key, index) => {
        book.claim({ kind, key }, { container, index });
      });
    }
  }
  return book;
}

/** clashMessage says what `claim` of `self` meets, held by `holder`. */
function clashMessage(claim: Claim, self: string, holder: string): string {
  if (claim.kind === 'port')
    return `${self} would listen on ${claim.key}, where ${holder} already listens`;
  return `${self} has the name of ${holder}: a port name must be unique in the pod`;
}

/** Problem is a denial's code and message, before the caller names the policy. */
type Problem = Pick<Denial, 'code' | 'reason'>;

/** mountProblem says why one container's mounts cannot be, or undefined. */
function mountProblem(
  container: V1Container,
  volumes: { has(name: string): boolean },
): Problem | undefined {
  const where = `container "${container.name}"`;
  const paths = new Set<string>();
  for (const [i, mount] of (container.volumeMounts ?? []).entries()) {
    if (!volumes.has(mount.name)) {
      return {
        code: 'VolumeMissing',
        reason: `${where} mounts volume "${mount.name}", which neither the pod nor a policy adds`,
      };
    }
    const { key } = mountPathClaim(mount.mountPath, 'volumeMounts', i);
    if (paths.has(key)) return { code: 'MountClash', reason: `${where} would mount ${key} twice` };
    paths.add(key);
  }
  return undefined;
}

/**
 * portProblem says why one container's ports cannot join the pod, booking them when they
 * can. A port, or a port name, already held is a PortClash either way.
 */
function portProblem(
  container: V1Container,
  init: boolean,
  ports: PortBook,
  policyName: string,
): Problem | undefined {
  const claims = portClaims(container, init);
  for (const [j, port] of (container.ports ?? []).entries()) {
    if (!isPortNumber(port.containerPort)) {
      return {
        code: 'PortOutOfRange',
        reason: `container "${container.name}" would listen on port ${String(port.containerPort)}, outside 1-65535`,
      };
    }
    for (const claim of claims.filter((c) => c.index === j)) {
      const holder = ports.claim(claim, { container, index: j, policy: policyName });
      if (holder !== undefined) {
        const self = listener(container, j);
        return { code: 'PortClash', reason: clashMessage(claim, self, describeHolder(holder)) };
      }
    }
  }
  return undefined;
}

/**
 * checkInjectedContainers returns why `containers` (policy `policyName`'s, rendered, with
 * `init` telling plain init containers apart) cannot join the pod, or undefined. It books
 * their ports when they pass. Mount paths compare as the kubelet resolves them.
 */
export function checkInjectedContainers(
  containers: readonly { container: V1Container; init: boolean }[],
  volumes: { has(name: string): boolean },
  ports: PortBook,
  policyName: string,
): Denial | undefined {
  for (const { container, init } of containers) {
    const problem =
      mountProblem(container, volumes) ?? portProblem(container, init, ports, policyName);
    if (problem !== undefined) return denial(problem.code, problem.reason, policyName);
  }
  return undefined;
}

/**
 * Checks on rendered containers that a param value can break even when the policy is
 * sound: two mounts meeting at one path, a mount of a volume nobody adds, a port out of
 * range or already in use in the pod. Each would otherwise reach the user as the API
 * server's rejection, or as a container that cannot bind, with tandem's part unnamed.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { denial, type Denial } from './denial.ts';
import { resolveMountPath } from './mount-path.ts';

/**
 * PortBook records who listens on each port and protocol of the pod, as a phrase for a
 * message: `container "app" of the pod`, `container "x" of policy "p"`.
 */
export type PortBook = Map<string, string>;

function portKey(port: number, protocol: string | undefined): string {
  return `${port}/${protocol ?? 'TCP'}`;
}

/** listener names a port's side of a clash: the container, and the port's name if it has one. */
function listener(container: string, port: string | undefined): string {
  return port === undefined
    ? `container "${container}"`
    : `port "${port}" of container "${container}"`;
}

/** isLongRunning: app containers and native sidecars run alongside the app; plain init containers do not. */
function isLongRunning(container: V1Container, init: boolean): boolean {
  return !init || container.restartPolicy === 'Always';
}

/** bookPodPorts lists the ports the pod's running containers already declare. */
export function bookPodPorts(pod: V1Pod): PortBook {
  const book: PortBook = new Map();
  const spec = pod.spec;
  for (const [list, init] of [
    [spec?.initContainers ?? [], true],
    [spec?.containers ?? [], false],
  ] as const) {
    for (const container of list) {
      if (!isLongRunning(container, init)) continue;
      for (const port of container.ports ?? []) {
        const key = portKey(port.containerPort, port.protocol);
        book.set(key, `${listener(container.name, port.name)} of the pod`);
      }
    }
  }
  return book;
}

/**
 * checkInjectedContainers returns why `containers` (policy `policyName`'s, rendered, with
 * `init` telling plain init containers apart) cannot join the pod, or undefined; the
 * message does not name the policy, which the caller adds. It books their ports when they
 * pass. Mount paths compare as the kubelet resolves them.
 */
export function checkInjectedContainers(
  containers: readonly { container: V1Container; init: boolean }[],
  volumes: { has(name: string): boolean },
  ports: PortBook,
  policyName: string,
): Denial | undefined {
  const deny = (code: Denial['code'], reason: string): Denial => denial(code, reason, policyName);
  for (const { container, init } of containers) {
    const where = `container "${container.name}"`;
    const paths = new Set<string>();
    for (const mount of container.volumeMounts ?? []) {
      if (!volumes.has(mount.name)) {
        return deny(
          'VolumeMissing',
          `${where} mounts volume "${mount.name}", which neither the pod nor a policy adds`,
        );
      }
      const resolved = resolveMountPath(mount.mountPath);
      if (paths.has(resolved)) return deny('MountClash', `${where} would mount ${resolved} twice`);
      paths.add(resolved);
    }
    for (const port of container.ports ?? []) {
      const number = port.containerPort;
      if (!Number.isInteger(number) || number < 1 || number > 65535) {
        return deny(
          'PortOutOfRange',
          `${where} would listen on port ${String(number)}, outside 1-65535`,
        );
      }
      if (!isLongRunning(container, init)) continue;
      const key = portKey(number, port.protocol);
      const user = ports.get(key);
      const self = listener(container.name, port.name);
      if (user !== undefined) {
        return deny('PortClash', `${self} would listen on ${key}, where ${user} already listens`);
      }
      ports.set(key, `${self} of policy "${policyName}"`);
    }
  }
  return undefined;
}

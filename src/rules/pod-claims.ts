/**
 * What must be unique in a pod, and how two claims compare: one rule set that admission
 * (src/inject/compose.ts) applies to a pod and `tandem lint` (src/policy/lint.ts) applies
 * to policies side by side, so the two cannot disagree. Decided as the API server and
 * the kubelet see a pod:
 *
 * - container names are one namespace over init, app and ephemeral containers;
 * - volume names are unique;
 * - a port is its number and protocol (`8080/TCP` and `8080/UDP` are two sockets), and
 *   is held only by a container that keeps running: an app container or a native
 *   sidecar, not a plain init container, which has exited before the app starts;
 * - a port name is unique in the pod (the Pod API: "Each named port in a pod must have a
 *   unique name"), since a Service's `targetPort` or a probe that names a port must find
 *   one;
 * - a mount path in one container is unique as the kubelet resolves it (mount-path.ts).
 *
 * An env var an app container already has is not a claim: the API server accepts a
 * repeated name, and tandem keeps the first value with a warning.
 */
import type { V1Container } from '@kubernetes/client-node';
import { resolveMountPath } from './mount-path.ts';

/** ClaimKind is a kind of thing a pod holds once. */
export type ClaimKind = 'container' | 'volume' | 'port' | 'port name' | 'mount path';

/** Claim is one thing that must be unique in a pod. */
export interface Claim {
  readonly kind: ClaimKind;
  /** key is what compares: a name, `8080/TCP`, or a resolved mount path. */
  readonly key: string;
  /** field is where the claim is written, under its container or list item. */
  readonly field: string;
  /** index is the claim's place in its list (the port's, for port claims). */
  readonly index: number;
}

/** isLongRunning: app containers and native sidecars run alongside the app; plain init containers do not. */
export function isLongRunning(container: V1Container, init: boolean): boolean {
  return !init || container.restartPolicy === 'Always';
}

/** portKey is how two ports compare: by number and protocol, TCP when unsaid. */
export function portKey(port: number, protocol: string | undefined): string {
  return `${port}/${protocol ?? 'TCP'}`;
}

/** isPortNumber: a containerPort the API server accepts. */
export function isPortNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** PortClaimKind is what a port claims: its number and protocol, or its name. */
export type PortClaimKind = Extract<ClaimKind, 'port' | 'port name'>;

/**
 * forEachPortClaim calls `visit` with each claim of `container`'s ports in a pod: each
 * port's name, and, while the container keeps running, its number and protocol. A
 * number outside 1-65535 claims nothing (it is refused by its own check, or is an integer
 * param's unset 0 in lint). Visiting, rather than listing, lets admission book a large
 * pod's ports without a list and a field path for each.
 */
export function forEachPortClaim(
  container: V1Container,
  init: boolean,
  visit: (kind: PortClaimKind, key: string, index: number) => void,
): void {
  const running = isLongRunning(container, init);
  for (const [j, port] of (container.ports ?? []).entries()) {
    if (running && isPortNumber(port.containerPort)) {
      visit('port', portKey(port.containerPort, port.protocol), j);
    }
    if (port.name !== undefined && port.name !== '') visit('port name', port.name, j);
  }
}

/** portClaims lists the claims of `container`'s ports (forEachPortClaim), with their fields. */
export function portClaims(container: V1Container, init: boolean): Claim[] {
  const claims: Claim[] = [];
  forEachPortClaim(container, init, (kind, key, index) => {
    const field = kind === 'port' ? `ports[${index}].containerPort` : `ports[${index}].name`;
    claims.push({ kind, key, field, index });
  });
  return claims;
}

/** mountPathClaim is the mount at `path`, item `index` of a mount list at `field`. */
export function mountPathClaim(path: string, field: string, index: number): Claim {
  return { kind: 'mount path', key: resolveMountPath(path), field, index };
}

/** ClaimBook records who holds each claim in one pod (or, for lint, one imagined pod). */
export class ClaimBook<T> {
  // One map per kind, so a lookup hashes the key as it is: a joined `kind + key` string
  // was built for every claim, and a 50-container pod books a few hundred.
  readonly #held = new Map<ClaimKind, Map<string, T>>();

  /** holder returns who holds `claim`, or undefined. */
  holder(claim: Pick<Claim, 'kind' | 'key'>): T | undefined {
    return this.#held.get(claim.kind)?.get(claim.key);
  }

  /** claim records `owner` for `claim`, or returns the earlier holder and records nothing. */
  claim(claim: Pick<Claim, 'kind' | 'key'>, owner: T): T | undefined {
    let held = this.#held.get(claim.kind);
    if (held === undefined) {
      held = new Map();
      this.#held.set(claim.kind, held);
    }
    const earlier = held.get(claim.key);
    if (earlier !== undefined) return earlier;
    held.set(claim.key, owner);
    return undefined;
  }
}

/**
 * Pod-level resources (`spec.resources`, KEP-2837). The API server checks that the pod's
 * requests cover its containers' aggregate requests and that no container's limit exceeds
 * the pod's (validatePodResourceConsistency); the sidecars tandem adds would push a pod
 * that met them past them, and the pod would be refused. The author sized those figures
 * for the app, so tandem raises each one by exactly what its containers add, and the app
 * keeps the room it was given.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Additions } from './compose.ts';
import { formatQuantity, parseQuantity, usesBinarySuffix } from './quantity.ts';

/** PodContainers is the pod's init containers and containers, in order. */
export interface PodContainers {
  readonly initContainers: readonly V1Container[];
  readonly containers: readonly V1Container[];
}

/** containersOf is the pod's own containers. */
function containersOf(pod: V1Pod): PodContainers {
  return { initContainers: pod.spec?.initContainers ?? [], containers: pod.spec?.containers ?? [] };
}

/** withAdded is the pod's containers once `additions` are in, where the patch puts them. */
function withAdded(pod: V1Pod, additions: Additions): PodContainers {
  const { initContainers, containers } = containersOf(pod);
  const at = additions.initInsertIndex;
  return {
    initContainers: [
      ...initContainers.slice(0, at),
      ...additions.initContainers,
      ...initContainers.slice(at),
    ],
    containers: [...containers, ...additions.containers],
  };
}

/** PodResourceChanges is what tandem sets in `spec.resources`, written as quantities. */
export interface PodResourceChanges {
  readonly requests: Record<string, string>;
  readonly limits: Record<string, string>;
}

/** requestOf is a container's request, or its limit where it has none, as the API server defaults it. */
function requestOf(container: V1Container, name: string): bigint {
  const resources = container.resources;
  return parseQuantity(resources?.requests?.[name] ?? resources?.limits?.[name]) ?? 0n;
}

/** limitOf is a container's limit; a container without one is counted at its request. */
function limitOf(container: V1Container, name: string): bigint {
  const resources = container.resources;
  return parseQuantity(resources?.limits?.[name] ?? resources?.requests?.[name]) ?? 0n;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/**
 * aggregate is the API server's AggregateContainerRequests: containers and native
 * sidecars (restartPolicy Always) run together and add up; each other init container runs
 * alone beside the sidecars started before it; the pod needs the larger of the two.
 */
function aggregate(pod: PodContainers, amount: (container: V1Container) => bigint): bigint {
  let sidecars = 0n;
  let initPeak = 0n;
  for (const container of pod.initContainers) {
    if (container.restartPolicy === 'Always') sidecars += amount(container);
    else initPeak = max(initPeak, sidecars + amount(container));
  }
  let running = sidecars;
  for (const container of pod.containers) running += amount(container);
  return max(running, initPeak);
}

/** PodResourceRaise is what a pod's `spec.resources` becomes once tandem's containers are in. */
export interface PodResourceRaise {
  readonly changes: PodResourceChanges;
  /** warning says what was raised, from what to what; undefined when nothing was. */
  readonly warning: string | undefined;
}

function raiseOne(
  name: string,
  resources: NonNullable<NonNullable<V1Pod['spec']>['resources']>,
  before: PodContainers,
  after: PodContainers,
): { request?: bigint; limit?: bigint } {
  const request = parseQuantity(resources.requests?.[name]);
  const limit = parseQuantity(resources.limits?.[name]);
  const requested = (pod: PodContainers) => aggregate(pod, (c) => requestOf(c, name));
  const addedRequest = requested(after) - requested(before);
  const raised: { request?: bigint; limit?: bigint } = {};
  if (request !== undefined && addedRequest > 0n) raised.request = request + addedRequest;
  if (limit === undefined) return raised;
  const limited = (pod: PodContainers) => aggregate(pod, (c) => limitOf(c, name));
  const widest = after.containers.reduce((top, c) => max(top, limitOf(c, name)), 0n);
  // The pod's request (defaulted from the containers' aggregate when it is not set) may
  // not exceed its limit, and no container's limit may exceed it either.
  const needed = max(
    max(limit + limited(after) - limited(before), raised.request ?? requested(after)),
    widest,
  );
  if (needed > limit) raised.limit = needed;
  return raised;
}

/** resourceNames lists the resources `containers` ask for, requests or limits. */
function resourceNames(containers: readonly V1Container[]): Set<string> {
  const names = new Set<string>();
  for (const { resources } of containers) {
    for (const name of Object.keys(resources?.requests ?? {})) names.add(name);
    for (const name of Object.keys(resources?.limits ?? {})) names.add(name);
  }
  return names;
}

/**
 * raisePodResources returns the `spec.resources` figures the pod needs once `additions`
 * are in, each raised by what they add. Only the resources tandem's containers use can
 * change, so only those are worked out: the pod's own lists cost nothing.
 */
export function raisePodResources(pod: V1Pod, additions: Additions): PodResourceRaise {
  const resources = pod.spec?.resources;
  const changes: PodResourceChanges = { requests: {}, limits: {} };
  if (resources === undefined || resources === null) return { changes, warning: undefined };
  const before = containersOf(pod);
  const after = withAdded(pod, additions);
  const used = resourceNames([...additions.initContainers, ...additions.containers]);
  const budgeted = [...used].filter(
    (name) => resources.requests?.[name] !== undefined || resources.limits?.[name] !== undefined,
  );
  const said: string[] = [];
  for (const name of budgeted.sort()) {
    const raised = raiseOne(name, resources, before, after);
    for (const kind of ['requests', 'limits'] as const) {
      const value = kind === 'requests' ? raised.request : raised.limit;
      if (value === undefined) continue;
      const old = resources[kind]?.[name];
      changes[kind][name] = formatQuantity(value, usesBinarySuffix(old));
      said.push(`${kind} ${name} ${String(old)} to ${changes[kind][name]}`);
    }
  }
  const warning =
    said.length === 0
      ? undefined
      : `pod-level resources (spec.resources) raised by what tandem adds: ${said.join(', ')}`;
  return { changes, warning };
}

/**
 * Where each workload kind keeps its pod template, for `tandem inject` and `tandem
 * explain`: the same engine that admits a Pod injects the template of a Deployment.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isJsonObject, type JsonObject } from '../json.ts';

/** WORKLOAD_KINDS are the kinds whose pod template tandem injects offline. */
export const WORKLOAD_KINDS: ReadonlySet<string> = new Set([
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
  'CronJob',
]);

/** PodTemplate is a workload's pod, as the engine sees it, and where it came from. */
export interface PodTemplate {
  /** pod shares its `metadata` and `spec` objects with the document: patching it edits the document. */
  readonly pod: V1Pod;
  readonly holder: JsonObject;
}

function child(value: JsonObject | undefined, key: string): JsonObject | undefined {
  const next = value?.[key];
  return isJsonObject(next) ? next : undefined;
}

/**
 * podTemplatePath is where a workload kind keeps its pod's `metadata` and `spec`: the
 * keys from the document down to the object that holds them, or undefined for a kind
 * tandem does not inject.
 */
export function podTemplatePath(kind: unknown): readonly string[] | undefined {
  if (typeof kind !== 'string' || !WORKLOAD_KINDS.has(kind)) return undefined;
  if (kind === 'Pod') return [];
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template'];
  return ['spec', 'template'];
}

/**
 * findPodTemplate returns the object that holds the pod's `metadata` and `spec`, or
 * undefined for a document that is not a workload tandem knows.
 */
export function findPodTemplate(document: JsonObject): JsonObject | undefined {
  const path = podTemplatePath(document.kind);
  if (path === undefined) return undefined;
  let holder: JsonObject | undefined = document;
  for (const key of path) holder = child(holder, key);
  return holder;
}

/** workloadName is `Kind/name` for messages. */
export function workloadName(document: JsonObject): string {
  const metadata = child(document, 'metadata');
  const name = metadata?.name ?? metadata?.generateName;
  const kind = typeof document.kind === 'string' ? document.kind : 'object';
  return `${kind}/${typeof name === 'string' ? name : '(unnamed)'}`;
}

/** workloadNamespace is the namespace a document names, if any. */
export function workloadNamespace(document: JsonObject): string | undefined {
  const namespace = child(document, 'metadata')?.namespace;
  return typeof namespace === 'string' ? namespace : undefined;
}

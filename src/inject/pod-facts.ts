/**
 * readPodFacts reads a pod once, at the start of the engine, into the facts every later
 * stage works from: the caps of src/limits.ts are checked first (everything after reads
 * the pod-supplied lists they bound), then the annotations tandem reads are parsed, each
 * once. Stages take these facts; none goes back to the pod's annotations.
 */
import type { V1Container, V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import {
  DEFAULT_CONTAINER_ANNOTATION,
  INJECT_ANNOTATION,
  STATUS_ANNOTATION,
  TARGET_CONTAINERS_ANNOTATION,
} from '../annotations.ts';
import type { ClusterValues } from '../policy/compile.ts';
import type { TemplateScope } from '../policy/template.ts';
import { paramInputs, type ParamInputs } from './params.ts';
import { checkRequestLimits } from './request-limits.ts';
import { parseInjectAnnotation, type InjectRequest } from './inject-request.ts';
import { fail, ok, type Result } from './result.ts';
import { parseStatus, type InjectionStatus } from './status.ts';
import type { InjectContext } from './types.ts';

/** PodScope is what `{{ pod.* }}` references resolve against. */
export type PodScope = Omit<TemplateScope, 'params'>;

/** PodFacts is everything the engine reads of one pod, read once. */
export interface PodFacts {
  readonly pod: V1Pod;
  /** containers are the pod's own `spec.containers`, as readPod checked them. */
  readonly containers: readonly V1Container[];
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly scope: PodScope;
  /**
   * params are where the pod's param values come from: its annotations (their keys filed
   * by policy in one pass), its namespace's annotations and the admin's cluster values.
   */
  readonly params: ParamInputs;
  /** request is `tandem.dev/inject`, parsed. */
  readonly request: InjectRequest;
  /** targetNames is `tandem.dev/target-containers`, split, or undefined when unset. */
  readonly targetNames: readonly string[] | undefined;
  /** status is `tandem.dev/status`: as written until trustStatus, then what the pod bears out. */
  readonly status: InjectionStatus;
  /** defaultContainerSet: the author already chose kubectl's default container. */
  readonly defaultContainerSet: boolean;
}

/** splitNames reads a comma-separated list of names, dropping empty entries. */
function splitNames(raw: string | undefined): readonly string[] | undefined {
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/** podName is what `{{ pod.name }}` renders: a pod made by a controller has only a generateName at admission. */
function podName(metadata: V1ObjectMeta): string {
  return metadata.name ?? metadata.generateName ?? '';
}

/** readPodFacts reads `pod` for the engine, or says why the pod is denied before anything else. */
export function readPodFacts(
  pod: V1Pod,
  context: InjectContext,
  clusterValues: ClusterValues,
): Result<PodFacts> {
  const metadata = pod.metadata ?? {};
  const annotations = metadata.annotations ?? {};
  const overLimit = checkRequestLimits(annotations);
  if (overLimit !== undefined) return fail(overLimit);
  const status = parseStatus(annotations[STATUS_ANNOTATION]);
  if (!status.ok) return status;
  const labels = metadata.labels ?? {};
  return ok({
    pod,
    containers: pod.spec?.containers ?? [],
    annotations,
    labels,
    scope: { namespace: context.namespace, podName: podName(metadata), labels, annotations },
    params: paramInputs(
      annotations,
      { name: context.namespace, annotations: context.namespaceAnnotations ?? {} },
      clusterValues,
    ),
    request: parseInjectAnnotation(annotations[INJECT_ANNOTATION]),
    targetNames: splitNames(annotations[TARGET_CONTAINERS_ANNOTATION]),
    status: status.value,
    defaultContainerSet: annotations[DEFAULT_CONTAINER_ANNOTATION] !== undefined,
  });
}

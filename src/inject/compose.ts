/**
 * composeAdditions renders the selected policies for one pod and merges them into one
 * set of additions: the containers, volumes, app-side mounts and env, and annotations to
 * add. It enforces the rules that keep the author's pod intact (SPEC §3 rule 3): a name
 * that clashes with a container or volume tandem did not add denies the pod.
 */
import type {
  V1Container,
  V1EnvVar,
  V1Pod,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { LoadedPolicy, SidecarMode } from '../policy/compile.ts';
import { renderTemplate, type TemplateScope } from '../policy/template.ts';
import { bookPodPorts, checkInjectedContainers } from './container-checks.ts';
import { checkPodSecurity } from './pod-security.ts';
import { withRestrictedDefaults } from './security-defaults.ts';
import type { InjectionStatus } from './status.ts';
import type { InjectContext } from './types.ts';

/** RenderedPolicy is what a policy's template renders to for one pod. */
interface RenderedPolicy {
  containers?: V1Container[];
  initContainers?: V1Container[];
  volumes?: V1Volume[];
  appContainer?: { volumeMounts?: V1VolumeMount[]; env?: V1EnvVar[] };
  podAnnotations?: Record<string, string>;
}

/** AppContainerAddition is what one of the pod's own containers gains. */
export interface AppContainerAddition {
  readonly index: number;
  readonly volumeMounts: V1VolumeMount[];
  readonly env: V1EnvVar[];
}

/** Additions is everything the selected policies add to one pod. */
export interface Additions {
  /** initContainers go in at `initInsertIndex`, ahead of the pod's own init containers. */
  readonly initContainers: V1Container[];
  readonly initInsertIndex: number;
  readonly containers: V1Container[];
  readonly volumes: V1Volume[];
  readonly appContainers: AppContainerAddition[];
  readonly annotations: Record<string, string>;
  readonly warnings: string[];
}

/** PolicyInput is one selected policy with its resolved params. */
export interface PolicyInput {
  readonly policy: LoadedPolicy;
  readonly params: ReadonlyMap<string, string>;
}

/** ComposeInput is the pod-level facts composition needs, worked out once by the engine. */
export interface ComposeInput {
  readonly pod: V1Pod;
  readonly status: InjectionStatus;
  readonly targets: readonly number[];
  readonly scope: Omit<TemplateScope, 'params'>;
}

type Composed = { ok: true; additions: Additions } | { ok: false; reason: string };

function effectiveMode(policy: LoadedPolicy, context: InjectContext): SidecarMode {
  // A cluster before 1.29 drops restartPolicy from init containers, and the pod would
  // then wait forever on a sidecar that never exits: never emit native sidecars there.
  if (!context.nativeSidecarsSupported) return 'classic';
  return policy.spec.sidecarMode ?? context.sidecarMode;
}

function ownerOf(name: string, status: InjectionStatus): string {
  return status.containers.includes(name) || status.volumes.includes(name)
    ? 'tandem added earlier'
    : "the pod's author wrote";
}

/** composeAdditions renders and merges the policies, in order, or denies the pod. */
export function composeAdditions(
  input: ComposeInput,
  policies: readonly PolicyInput[],
  context: InjectContext,
): Composed {
  const { pod, status } = input;
  const spec = pod.spec;
  const takenContainers = new Map<string, string>();
  for (const c of [
    ...(spec?.initContainers ?? []),
    ...(spec?.containers ?? []),
    ...(spec?.ephemeralContainers ?? []),
  ]) {
    takenContainers.set(c.name, ownerOf(c.name, status));
  }
  const takenVolumes = new Map<string, string>();
  for (const v of spec?.volumes ?? []) takenVolumes.set(v.name, ownerOf(v.name, status));
  const ports = bookPodPorts(pod);

  const additions: Additions = {
    initContainers: [],
    initInsertIndex: leadingTandemInitContainers(pod, status),
    containers: [],
    volumes: [],
    appContainers: input.targets.map((index) => ({ index, volumeMounts: [], env: [] })),
    annotations: {},
    warnings: [],
  };

  for (const { policy, params } of policies) {
    const rendered = renderTemplate(policy.template, { ...input.scope, params }) as RenderedPolicy;
    const mode = effectiveMode(policy, context);
    const inits = (rendered.initContainers ?? []).map(withRestrictedDefaults);
    const sidecars = (rendered.containers ?? []).map((c) =>
      withRestrictedDefaults(mode === 'native' ? { ...c, restartPolicy: 'Always' } : c),
    );
    const volumes = rendered.volumes ?? [];
    for (const c of [...inits, ...sidecars]) {
      const owner = takenContainers.get(c.name);
      if (owner !== undefined) {
        return {
          ok: false,
          reason: `policy "${policy.name}" adds container "${c.name}", but a container of that name exists (${owner} it)`,
        };
      }
      takenContainers.set(c.name, `policy "${policy.name}" added`);
    }
    for (const v of volumes) {
      const owner = takenVolumes.get(v.name);
      if (owner !== undefined) {
        return {
          ok: false,
          reason: `policy "${policy.name}" adds volume "${v.name}", but a volume of that name exists (${owner} it)`,
        };
      }
      takenVolumes.set(v.name, `policy "${policy.name}" added`);
    }
    const problem = checkInjectedContainers(
      [
        ...inits.map((container) => ({ container, init: true })),
        ...sidecars.map((container) => ({ container, init: mode === 'native' })),
      ],
      new Set(takenVolumes.keys()),
      ports,
    );
    if (problem !== undefined) return { ok: false, reason: `policy "${policy.name}": ${problem}` };
    if (context.podSecurityLevel !== undefined && context.podSecurityLevel !== 'privileged') {
      const violations = checkPodSecurity(
        { containers: [...inits, ...sidecars], volumes },
        context.podSecurityLevel,
      );
      const first = violations[0];
      if (first !== undefined) {
        const where = first.container === undefined ? '' : ` container "${first.container}":`;
        return {
          ok: false,
          reason: `policy "${policy.name}" would break namespace "${context.namespace}"'s Pod Security level "${context.podSecurityLevel}":${where} ${first.rule}: ${first.message}`,
        };
      }
    }
    additions.initContainers.push(...inits, ...(mode === 'native' ? sidecars : []));
    if (mode === 'classic') additions.containers.push(...sidecars);
    additions.volumes.push(...volumes);
    const clash = addAppSide(pod, additions, rendered, policy.name);
    if (clash !== undefined) return { ok: false, reason: clash };
    for (const [key, value] of Object.entries(rendered.podAnnotations ?? {})) {
      const existing = pod.metadata?.annotations?.[key] ?? additions.annotations[key];
      if (existing === undefined) additions.annotations[key] = value;
      else if (existing !== value) {
        additions.warnings.push(
          `annotation ${key} keeps the pod's value "${existing}"; policy "${policy.name}" would set "${value}"`,
        );
      }
    }
  }
  return { ok: true, additions };
}

/** addAppSide adds a policy's app-side mounts and env to each target container. */
function addAppSide(
  pod: V1Pod,
  additions: Additions,
  rendered: RenderedPolicy,
  policyName: string,
): string | undefined {
  const mounts = rendered.appContainer?.volumeMounts ?? [];
  const env = rendered.appContainer?.env ?? [];
  for (const target of additions.appContainers) {
    const container = pod.spec?.containers[target.index];
    if (container === undefined) continue;
    for (const mount of mounts) {
      const paths = [...(container.volumeMounts ?? []), ...target.volumeMounts].map(
        (m) => m.mountPath,
      );
      if (paths.includes(mount.mountPath)) {
        return `policy "${policyName}" mounts ${mount.mountPath} in container "${container.name}", which already has a mount there`;
      }
      target.volumeMounts.push({ ...mount });
    }
    for (const variable of env) {
      const names = [...(container.env ?? []), ...target.env].map((e) => e.name);
      if (names.includes(variable.name)) {
        additions.warnings.push(
          `container "${container.name}" keeps its own env ${variable.name}; policy "${policyName}" would set it too`,
        );
        continue;
      }
      target.env.push({ ...variable });
    }
  }
  return undefined;
}

/**
 * leadingTandemInitContainers counts the init containers tandem put at the front earlier,
 * so that a later injection lands after them and the earlier ones keep starting first.
 */
function leadingTandemInitContainers(pod: V1Pod, status: InjectionStatus): number {
  let count = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    if (!status.containers.includes(c.name)) break;
    count += 1;
  }
  return count;
}

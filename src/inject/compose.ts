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
import type { LoadedPolicy } from '../policy/compile.ts';
import { effectiveSidecarMode, type SidecarMode } from '../sidecar-mode.ts';
import { renderTemplate, type TemplateScope } from '../policy/template.ts';
import { bookPodPorts, checkInjectedContainers, type PortBook } from '../rules/container-checks.ts';
import { ClaimBook, mountPathClaim } from '../rules/pod-claims.ts';
import { checkPodSecurity } from '../rules/pod-security.ts';
import { denial, type Denial } from '../denial.ts';
import type { PodFacts } from './pod-facts.ts';
import { quoteValue } from './quote.ts';
import { createRenderCache } from './render-cache.ts';
import { fail, ok, type Result } from './result.ts';
import { withRestrictedDefaults } from '../rules/security-defaults.ts';
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
}

/** PolicyInput is one selected policy with its resolved params. */
export interface PolicyInput {
  readonly policy: LoadedPolicy;
  readonly params: ReadonlyMap<string, string>;
}

/** ComposeInput is the pod-level facts composition needs, worked out once by the engine. */
export interface ComposeInput {
  readonly facts: Pick<PodFacts, 'pod' | 'status' | 'scope'>;
  /** targets index the app containers, in `spec.containers`, that get mounts and env. */
  readonly targets: readonly number[];
}

function ownerOf(name: string, addedEarlier: ReadonlySet<string>): string {
  return addedEarlier.has(name) ? 'tandem added earlier' : "the pod's author wrote";
}

/** ComposeState is what composition tracks across the policies of one pod. */
interface ComposeState {
  readonly pod: V1Pod;
  readonly context: InjectContext;
  readonly additions: Additions;
  /** warnings are composition's own, in the order the policies raise them. */
  readonly warnings: string[];
  /** names holds each container and volume name in use, with who added it. */
  readonly names: ClaimBook<string>;
  /** volumes answers whether a volume of a name is in the pod, for mounts. */
  readonly volumes: { has(name: string): boolean };
  readonly ports: PortBook;
}

/** bookPodNames claims the names of the pod's containers and volumes, each for who added it. */
function bookPodNames(pod: V1Pod, status: InjectionStatus): ClaimBook<string> {
  const spec = pod.spec ?? { containers: [] };
  const names = new ClaimBook<string>();
  const everyContainer = [
    ...(spec.initContainers ?? []),
    ...spec.containers,
    ...(spec.ephemeralContainers ?? []),
  ];
  // A set, not the status's lists: each is looked up once per container or volume.
  const addedEarlier = new Set([...status.containers, ...status.volumes]);
  for (const { name } of everyContainer) {
    names.claim({ kind: 'container', key: name }, ownerOf(name, addedEarlier));
  }
  for (const { name } of spec.volumes ?? []) {
    names.claim({ kind: 'volume', key: name }, ownerOf(name, addedEarlier));
  }
  return names;
}

function startState(input: ComposeInput, context: InjectContext): ComposeState {
  const { pod, status } = input.facts;
  const names = bookPodNames(pod, status);
  const additions: Additions = {
    initContainers: [],
    initInsertIndex: leadingTandemInitContainers(pod, status),
    containers: [],
    volumes: [],
    appContainers: input.targets.map((index) => ({ index, volumeMounts: [], env: [] })),
    annotations: {},
  };
  return {
    pod,
    context,
    additions,
    warnings: [],
    names,
    volumes: { has: (name) => names.holder({ kind: 'volume', key: name }) !== undefined },
    ports: bookPodPorts(pod),
  };
}

/** claimNames records `names` as the policy's, or says which one is taken and by whom. */
function claimNames(
  what: 'container' | 'volume',
  names: readonly string[],
  taken: ClaimBook<string>,
  policyName: string,
): Denial | undefined {
  for (const name of names) {
    const owner = taken.claim({ kind: what, key: name }, `policy "${policyName}" added`);
    if (owner !== undefined) {
      return denial(
        'NameClash',
        `policy "${policyName}" adds ${what} "${name}", but a ${what} of that name exists (${owner} it)`,
        policyName,
      );
    }
  }
  return undefined;
}

/** securityProblem says how the policy's containers break the namespace's PSS level. */
function securityProblem(
  context: InjectContext,
  policyName: string,
  injected: { containers: V1Container[]; volumes: V1Volume[] },
): Denial | undefined {
  const level = context.podSecurityLevel;
  if (level === undefined || level === 'privileged') return undefined;
  const first = checkPodSecurity(injected, level)[0];
  if (first === undefined) return undefined;
  const where = first.container === undefined ? '' : ` container "${first.container}":`;
  return denial(
    'PodSecurity',
    `policy "${policyName}" would break namespace "${context.namespace}"'s Pod Security level "${level}":${where} ${first.rule}: ${first.message}`,
    policyName,
  );
}

/** RenderedContainers is a rendered policy with its containers' defaults filled in. */
interface RenderedContainers {
  readonly rendered: RenderedPolicy;
  readonly inits: readonly V1Container[];
  readonly sidecars: readonly V1Container[];
}

// One cache for the process: its entries are keyed by the policy object, so a reload's
// new policies start afresh, and `tandem inject` over many pods benefits as the webhook does.
const renderCache = createRenderCache();

/** renderPolicy renders a policy for `scope` and gives its containers their defaults. */
function renderPolicy(
  policy: LoadedPolicy,
  mode: SidecarMode,
  scope: TemplateScope,
): RenderedContainers {
  const rendered = renderTemplate(policy.template, scope) as RenderedPolicy;
  const inits = (rendered.initContainers ?? []).map(withRestrictedDefaults);
  const sidecars = (rendered.containers ?? []).map((c) =>
    withRestrictedDefaults(mode === 'native' ? { ...c, restartPolicy: 'Always' } : c),
  );
  return { rendered, inits, sidecars };
}

/** addPolicy renders one policy into the state, or returns why the pod is denied. */
function addPolicy(
  state: ComposeState,
  input: PolicyInput,
  scope: ComposeInput['facts']['scope'],
): Denial | undefined {
  const { policy, params } = input;
  const { additions, context } = state;
  const mode = effectiveSidecarMode(policy.spec.sidecarMode, context);
  const templateScope = { ...scope, params };
  const { rendered, inits, sidecars } = renderCache.rendered(policy, mode, templateScope, () =>
    renderPolicy(policy, mode, templateScope),
  );
  const volumes = rendered.volumes ?? [];
  const containers = [...inits, ...sidecars];
  const problem =
    claimNames(
      'container',
      containers.map((c) => c.name),
      state.names,
      policy.name,
    ) ??
    claimNames(
      'volume',
      volumes.map((v) => v.name),
      state.names,
      policy.name,
    ) ??
    prefixed(
      policy.name,
      checkInjectedContainers(
        [
          ...inits.map((container) => ({ container, init: true })),
          ...sidecars.map((container) => ({ container, init: mode === 'native' })),
        ],
        state.volumes,
        state.ports,
        policy.name,
      ),
    ) ??
    securityProblem(context, policy.name, { containers, volumes });
  if (problem !== undefined) return problem;
  additions.initContainers.push(...inits, ...(mode === 'native' ? sidecars : []));
  if (mode === 'classic') additions.containers.push(...sidecars);
  additions.volumes.push(...volumes);
  const appSideFor = (containerName: string): RenderedPolicy['appContainer'] =>
    policy.appContainerTemplate === undefined
      ? rendered.appContainer
      : (renderTemplate(policy.appContainerTemplate, {
          ...scope,
          params,
          containerName,
        }) as RenderedPolicy['appContainer']);
  const clash = addAppSide(state, rendered, appSideFor, policy.name);
  if (clash !== undefined) return clash;
  mergeAnnotations(state, rendered.podAnnotations ?? {}, policy.name);
  return undefined;
}

function prefixed(policyName: string, problem: Denial | undefined): Denial | undefined {
  if (problem === undefined) return undefined;
  return denial(problem.code, `policy "${policyName}": ${problem.reason}`, policyName);
}

/** mergeAnnotations adds a policy's pod annotations; the author's values win. */
function mergeAnnotations(
  state: ComposeState,
  annotations: Readonly<Record<string, string>>,
  policyName: string,
): void {
  const { additions } = state;
  for (const [key, value] of Object.entries(annotations)) {
    const existing = state.pod.metadata?.annotations?.[key] ?? additions.annotations[key];
    if (existing === undefined) additions.annotations[key] = value;
    else if (existing !== value) {
      state.warnings.push(
        `annotation ${key} keeps the pod's value "${existing}"; policy "${policyName}" would set "${value}"`,
      );
    }
  }
}

/** composeAdditions renders and merges the policies, in order, or denies the pod. */
export function composeAdditions(
  input: ComposeInput,
  policies: readonly PolicyInput[],
  context: InjectContext,
): Result<Additions> {
  const state = startState(input, context);
  for (const policy of policies) {
    const problem = addPolicy(state, policy, input.facts.scope);
    if (problem !== undefined) return fail(problem);
  }
  return ok(state.additions, state.warnings);
}

/**
 * addAppSide adds a policy's app-side mounts and env to each target container, rendered
 * for that container where the policy names it (`{{ container.name }}`).
 */
function addAppSide(
  state: ComposeState,
  rendered: RenderedPolicy,
  appSideFor: (containerName: string) => RenderedPolicy['appContainer'],
  policyName: string,
): Denial | undefined {
  const appSide: AppSide = rendered.appContainer ?? {};
  const mounts = appSide.volumeMounts ?? [];
  const missing = mounts.find((mount) => !state.volumes.has(mount.name));
  if (missing !== undefined) {
    return denial(
      'VolumeMissing',
      `policy "${policyName}" mounts volume "${missing.name}" in the app, which neither the pod nor a policy adds`,
      policyName,
    );
  }
  if (mounts.length === 0 && (appSide.env ?? []).length === 0) return undefined;
  for (const target of state.additions.appContainers) {
    const clash = addToTarget(state, target, appSideFor, policyName);
    if (clash !== undefined) return clash;
  }
  return undefined;
}

/** AppSide is what a policy adds to each app container. */
type AppSide = NonNullable<RenderedPolicy['appContainer']>;

/** addToTarget adds one target container's mounts and env, or says which mount clashes. */
function addToTarget(
  state: ComposeState,
  target: AppContainerAddition,
  appSideFor: (containerName: string) => RenderedPolicy['appContainer'],
  policyName: string,
): Denial | undefined {
  const container = state.pod.spec?.containers[target.index];
  if (container === undefined) return undefined;
  const own: AppSide = appSideFor(container.name) ?? {};
  const clash = addMounts(container, target, own.volumeMounts ?? []);
  if (clash !== undefined) {
    return denial('MountClash', `policy "${policyName}" mounts ${clash}`, policyName);
  }
  state.warnings.push(...addEnv(container, target, own.env ?? [], policyName));
  return undefined;
}

const NO_WARNINGS: readonly string[] = [];

// Below this many comparisons, a policy's few env names are looked for in the container's
// lists directly; above it, a set of the container's names is cheaper than the scans.
const ENV_SCAN_LIMIT = 64;

/** listsEnv: `list` sets a variable `name`. */
function listsEnv(list: readonly V1EnvVar[], name: string): boolean {
  for (const variable of list) if (variable.name === name) return true;
  return false;
}

/** envTaken: the container's own env or tandem's additions set `name`, by `names` if made. */
function envTaken(
  name: string,
  lists: readonly [readonly V1EnvVar[], readonly V1EnvVar[]],
  names: ReadonlySet<string> | undefined,
): boolean {
  return names?.has(name) ?? (listsEnv(lists[0], name) || listsEnv(lists[1], name));
}

/** envNames is the set of names in `lists`, for a container with many variables. */
function envNames(...lists: (readonly V1EnvVar[])[]): Set<string> {
  const names = new Set<string>();
  for (const list of lists) for (const variable of list) names.add(variable.name);
  return names;
}

/**
 * addEnv adds a policy's app env to one target container, except a variable the
 * container already has: the API server accepts a repeated name, so the author's value
 * stays and the warning says so (src/rules/pod-claims.ts: env is not a claim).
 */
function addEnv(
  container: V1Container,
  target: AppContainerAddition,
  env: readonly V1EnvVar[],
  policyName: string,
): readonly string[] {
  // Most policies add mounts or env, not both: nothing to look at for the other.
  if (env.length === 0) return NO_WARNINGS;
  const lists = [container.env ?? [], target.env] as const;
  const scans = (lists[0].length + lists[1].length) * env.length;
  const names = scans > ENV_SCAN_LIMIT ? envNames(...lists) : undefined;
  let warnings: string[] | undefined;
  for (const variable of env) {
    const { name } = variable;
    if (envTaken(name, lists, names)) {
      warnings ??= [];
      warnings.push(
        `container "${container.name}" keeps its own env ${name}; policy "${policyName}" would set it too`,
      );
      continue;
    }
    names?.add(name);
    target.env.push({ ...variable });
  }
  return warnings ?? NO_WARNINGS;
}

/**
 * addMounts adds `mounts` to one target container, or says where one meets a mount the
 * container already has. Paths compare as the kubelet resolves them, so `/var/log/app/`
 * and `/var/log/app` are one directory, and the message quotes the author's spelling.
 */
function addMounts(
  container: V1Container,
  target: AppContainerAddition,
  mounts: readonly V1VolumeMount[],
): string | undefined {
  if (mounts.length === 0) return undefined;
  const taken = new ClaimBook<string>();
  const own = container.volumeMounts ?? [];
  for (const [i, mount] of own.entries()) {
    taken.claim(mountPathClaim(mount.mountPath, 'volumeMounts', i), mount.mountPath);
  }
  for (const [i, mount] of target.volumeMounts.entries()) {
    taken.claim(mountPathClaim(mount.mountPath, 'volumeMounts', own.length + i), mount.mountPath);
  }
  for (const [i, mount] of mounts.entries()) {
    const claim = mountPathClaim(mount.mountPath, 'appContainer.volumeMounts', i);
    const existing = taken.claim(claim, mount.mountPath);
    if (existing !== undefined) {
      const spelt = existing === claim.key ? '' : ` (as ${quoteValue(existing)})`;
      return `${claim.key} in container "${container.name}", which already has a mount there${spelt}`;
    }
    target.volumeMounts.push({ ...mount });
  }
  return undefined;
}

/**
 * leadingTandemInitContainers counts the init containers tandem put at the front earlier,
 * so that a later injection lands after them and the earlier ones keep starting first.
 */
function leadingTandemInitContainers(pod: V1Pod, status: InjectionStatus): number {
  const added = new Set(status.containers);
  let count = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    if (!added.has(c.name)) break;
    count += 1;
  }
  return count;
}

/**
 * trustStatus checks the `tandem.dev/status` annotation against the pod before anything
 * relies on it. The annotation is only text on the pod: its author can write it, copy it
 * from another pod, or edit the pod after injection. A policy counts as already injected
 * only when what it adds is really in the pod:
 *
 * - every container the policy renders (with the pod's params) is in the pod, under the
 *   same name, and listed in the status's `containers`; while the policy is the version
 *   the status records (same hash), with the same image too;
 * - every volume it renders is in the pod, under the same name, and listed in `volumes`.
 *
 * A policy whose hash differs is judged on names only: a changed policy usually changed
 * its image, and the pod rightly keeps the one it was injected with. Any other claim is
 * not trusted: the policy is left out of the status (so it is injected again if the pod
 * asks for it), containers and volumes no trusted policy accounts for count as the
 * author's (so they keep getting the app-side mounts and env), and a warning says so.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { STATUS_ANNOTATION } from '../annotations.ts';
import { isJsonObject, type JsonValue } from '../json.ts';
import type { LoadedPolicy, PolicySet } from '../policy/compile.ts';
import { renderTemplate } from '../policy/template.ts';
import { resolveParams } from './params.ts';
import type { PodFacts } from './pod-facts.ts';
import { quoteValue } from './quote.ts';
import { fail, ok, type Result, type Why } from './result.ts';
import { isEmptyStatus, type InjectionStatus, type StatusEntry } from './status.ts';

/** TrustedStatus is the part of a status the pod bears out, and warnings for the rest. */
export interface TrustedStatus {
  readonly status: InjectionStatus;
  readonly warnings: readonly string[];
}

/** PodNames is what the pod has, by name: its containers' images and its volumes. */
interface PodNames {
  readonly images: ReadonlyMap<string, string | undefined>;
  readonly volumes: ReadonlySet<string>;
  readonly listedContainers: ReadonlySet<string>;
  readonly listedVolumes: ReadonlySet<string>;
}

/** Rendered is what one policy adds, by name: containers with their images, and volumes. */
interface Rendered {
  readonly containers: readonly { name: string; image: string | undefined }[];
  readonly volumes: readonly string[];
}

function named(value: JsonValue | undefined): { name: string; image: string | undefined }[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isJsonObject).map((item) => ({
    name: typeof item.name === 'string' ? item.name : '',
    image: typeof item.image === 'string' ? item.image : undefined,
  }));
}

// What a policy adds, by name, when no name or image in it is a template: the same for
// every pod, so worked out once per loaded policy instead of rendered on every admission.
const staticParts = new WeakMap<LoadedPolicy, Rendered | null>();

function isPlain(value: unknown): boolean {
  return typeof value !== 'string' || !value.includes('{{');
}

/** staticRendered is what `policy` adds when no name or image is templated, else null. */
function staticRendered(policy: LoadedPolicy): Rendered | null {
  const known = staticParts.get(policy);
  if (known !== undefined) return known;
  const { spec } = policy;
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const volumes = spec.volumes ?? [];
  const plain =
    containers.every((c) => isPlain(c.name) && isPlain(c.image)) &&
    volumes.every((v) => isPlain(v.name));
  const parts = plain
    ? {
        containers: containers.map((c) => ({ name: c.name, image: c.image })),
        volumes: volumes.map((v) => v.name),
      }
    : null;
  staticParts.set(policy, parts);
  return parts;
}

/** PodScope is what templates read of the pod, and where its param values come from. */
type PodScope = Pick<PodFacts, 'scope' | 'params'>;

/** render gives what `policy` adds to this pod, or why it cannot say (a param the pod broke). */
function render(policy: LoadedPolicy, pod: PodScope): Result<Rendered, Why> {
  const fixed = staticRendered(policy);
  if (fixed !== null) return ok(fixed);
  const { scope } = pod;
  const params = resolveParams(policy, pod.params);
  if (!params.ok) return params;
  const content = renderTemplate(policy.template, { ...scope, params: params.value.values });
  const root = isJsonObject(content) ? content : {};
  return ok({
    containers: [...named(root['initContainers']), ...named(root['containers'])],
    volumes: named(root['volumes']).map((v) => v.name),
  });
}

/** missingPart says what of `rendered` the pod or the status lacks, or undefined. */
function missingPart(rendered: Rendered, pod: PodNames, sameVersion: boolean): string | undefined {
  for (const container of rendered.containers) {
    const missing = missingContainer(container, pod, sameVersion);
    if (missing !== undefined) return missing;
  }
  for (const name of rendered.volumes) {
    if (!pod.volumes.has(name)) return `the pod has no volume "${name}"`;
    if (!pod.listedVolumes.has(name)) return `it does not list volume "${name}"`;
  }
  return undefined;
}

/** missingContainer says what of one rendered container the pod or the status lacks. */
function missingContainer(
  { name, image }: Rendered['containers'][number],
  pod: PodNames,
  sameVersion: boolean,
): string | undefined {
  if (!pod.images.has(name)) return `the pod has no container "${name}"`;
  if (!pod.listedContainers.has(name)) return `it does not list container "${name}"`;
  const actual = pod.images.get(name);
  if (!sameVersion || actual === image) return undefined;
  return `container "${name}" runs image ${quoteValue(actual ?? '')}, not ${quoteValue(image ?? '')}`;
}

function podNames(pod: V1Pod, status: InjectionStatus): PodNames {
  const spec = pod.spec;
  const images = new Map<string, string | undefined>();
  const all: V1Container[] = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  for (const container of all) images.set(container.name, container.image);
  return {
    images,
    volumes: new Set((spec?.volumes ?? []).map((v) => v.name)),
    listedContainers: new Set(status.containers),
    listedVolumes: new Set(status.volumes),
  };
}

/** entryProblem says why one status entry is not trusted, or what its policy adds when it is. */
function entryProblem(
  entry: StatusEntry,
  policy: LoadedPolicy | undefined,
  names: PodNames,
  scope: PodScope,
): Result<Rendered, Why> {
  if (policy === undefined) {
    return fail({ reason: 'no such policy is loaded, so what it added cannot be checked' });
  }
  const rendered = render(policy, scope);
  if (!rendered.ok) return rendered;
  const missing = missingPart(rendered.value, names, entry.hash === policy.hash);
  return missing === undefined ? rendered : fail({ reason: missing });
}

/** undoOf is the status's undo record as a field to spread, or none. */
function undoOf(status: InjectionStatus): Pick<InjectionStatus, 'undo'> {
  return status.undo === undefined ? {} : { undo: status.undo };
}

/**
 * trustStatus keeps the status entries the pod bears out (see the module comment), and
 * says in a warning what it does not trust.
 */
export function trustStatus(
  facts: Pick<PodFacts, 'pod' | 'status' | 'scope' | 'params'>,
  policies: PolicySet,
): TrustedStatus {
  const { status } = facts;
  // Most pods arrive without a status: nothing to check.
  if (isEmptyStatus(status)) {
    return { status, warnings: [] };
  }
  const names = podNames(facts.pod, status);
  const warnings: string[] = [];
  const trusted: StatusEntry[] = [];
  const containers = new Set<string>();
  const volumes = new Set<string>();
  const seen = new Set<string>();
  for (const entry of status.policies) {
    // A name listed twice is checked once: the cost stays within the policies loaded.
    if (seen.has(entry.name)) continue;
    seen.add(entry.name);
    const checked = entryProblem(entry, policies.byName.get(entry.name), names, facts);
    if (!checked.ok) {
      warnings.push(
        `annotation ${STATUS_ANNOTATION} says policy ${quoteValue(entry.name)} was injected, but ${checked.reason}: not trusted`,
      );
      continue;
    }
    trusted.push(entry);
    for (const c of checked.value.containers) containers.add(c.name);
    for (const v of checked.value.volumes) volumes.add(v);
  }
  const strayContainers = status.containers.filter((name) => !containers.has(name));
  const strayVolumes = status.volumes.filter((name) => !volumes.has(name));
  if (strayContainers.length + strayVolumes.length > 0) {
    const listed = [
      ...strayContainers.map((name) => `container ${quoteValue(name)}`),
      ...strayVolumes.map((name) => `volume ${quoteValue(name)}`),
    ];
    const shown = listed.slice(0, 3).join(', ') + (listed.length > 3 ? ', ...' : '');
    warnings.push(
      `annotation ${STATUS_ANNOTATION} claims ${shown} for tandem, but no policy it lists adds ${listed.length === 1 ? 'it' : 'them'}: counted as the pod's own`,
    );
  }
  return {
    status: {
      policies: trusted,
      containers: status.containers.filter((name) => containers.has(name)),
      volumes: status.volumes.filter((name) => volumes.has(name)),
      // Carried as it is: it names no policy, and uninject reads it against the pod.
      ...undoOf(status),
    },
    warnings,
  };
}

/**
 * resolveParams finds each of a policy's params for one pod: from the pod's
 * `<policy>.tandem.dev/<param>` annotation, its namespace's annotation of the same key,
 * the admin's cluster values, or the policy's default, as far as the param's `setBy`
 * allows. Values are data: they are checked against the param's pattern here and later
 * substituted into single strings, never parsed as structure.
 */
import { PARAM_ANNOTATION_SUFFIX, paramAnnotationKey } from '../annotations.ts';
import { paramValueProblem } from '../policy/param-value.ts';
import {
  type ClusterValues,
  type CompiledParam,
  type LoadedPolicy,
  type ParamLevel,
} from '../policy/compile.ts';
import { denial, type Denial } from '../denial.ts';
import { isNonEmpty, joinDenials } from './problems.ts';
import { quoteValue } from './quote.ts';
import { fail, ok, type Result } from './result.ts';

// A warning names this many ignored annotations at most: kubectl prints every warning.
const IGNORED_NAMED = 5;

/**
 * paramKeysByPolicy files every `<policy>.tandem.dev/<param>` annotation key under its
 * policy's name, in one pass, so that no step loops over all annotations per policy.
 */
export function paramKeysByPolicy(
  annotations: Readonly<Record<string, string>>,
): Map<string, string[]> {
  const byPolicy = new Map<string, string[]>();
  for (const key of Object.keys(annotations)) {
    const at = key.indexOf(PARAM_ANNOTATION_SUFFIX);
    if (at <= 0) continue;
    const policy = key.slice(0, at);
    const keys = byPolicy.get(policy);
    if (keys === undefined) byPolicy.set(policy, [key]);
    else keys.push(key);
  }
  return byPolicy;
}

function ignoredWarning(policyName: string, ignored: readonly string[]): string {
  if (ignored.length === 1) {
    return `annotation ${quoteValue(ignored[0] ?? '')} is not a param of policy "${policyName}" and is ignored`;
  }
  const named = ignored.slice(0, IGNORED_NAMED).map(quoteValue).join(', ');
  const more = ignored.length > IGNORED_NAMED ? ` and ${ignored.length - IGNORED_NAMED} more` : '';
  return `annotations ${named}${more} are not params of policy "${policyName}" and are ignored`;
}

/** ParamOrigin is where a param's value came from, lowest precedence first. */
export type ParamOrigin = 'default' | 'cluster' | 'namespace' | 'pod';

/** ParamSource is one param's value and where it came from, for `tandem explain`. */
export interface ParamSource {
  readonly name: string;
  readonly value: string;
  readonly origin: ParamOrigin;
  /** where names the annotation or the values file line; undefined for a default. */
  readonly where: string | undefined;
}

/**
 * ParamInputs is every place a param value can come from for one pod, read once per
 * admission: the pod's annotations (and their param keys, filed by policy), its
 * namespace's annotations, and the admin's cluster values.
 */
export interface ParamInputs {
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly podKeys: ReadonlyMap<string, readonly string[]>;
  readonly namespace: string;
  readonly namespaceAnnotations: Readonly<Record<string, string>>;
  readonly clusterValues: ClusterValues;
}

/** paramInputs gathers a pod's ParamInputs; the pod's annotations are filed in one pass. */
export function paramInputs(
  podAnnotations: Readonly<Record<string, string>>,
  namespace: { readonly name: string; readonly annotations: Readonly<Record<string, string>> },
  clusterValues: ClusterValues,
): ParamInputs {
  return {
    podAnnotations,
    podKeys: paramKeysByPolicy(podAnnotations),
    namespace: namespace.name,
    namespaceAnnotations: namespace.annotations,
    clusterValues,
  };
}

/** ParamValues is the value of every param, by name, and where each came from. */
export interface ParamValues {
  readonly values: ReadonlyMap<string, string>;
  readonly sources: readonly ParamSource[];
}

/**
 * ParamDenial is every param problem of a policy in one denial (problems.ts), and each of
 * them, so the engine can join several policies' problems in turn.
 */
export type ParamDenial = Denial & { readonly denials: readonly Denial[] };

/** ResolvedParams is every param's value and source, or why the pod is denied. */
export type ResolvedParams = Result<ParamValues, ParamDenial>;

type Pick = Result<ParamSource>;

// Who may write a param at `setBy`, in the words of a denial.
const ALLOWED_WRITERS: Readonly<Record<ParamLevel, string>> = {
  cluster: 'only the cluster admin may set (setBy: cluster)',
  namespace: 'only the cluster admin or a namespace annotation may set (setBy: namespace)',
  pod: '',
};

/**
 * pickValue finds one param's value by precedence: the pod's annotation, then its
 * namespace's annotation, then the admin's cluster value, then the policy's default. A
 * pod or namespace annotation the param's `setBy` does not allow denies the pod rather
 * than being ignored: its author meant it, and a value silently dropped sends logs or
 * traffic somewhere nobody chose.
 */
function pickValue(policy: LoadedPolicy, param: CompiledParam, inputs: ParamInputs): Pick {
  const key = paramAnnotationKey(policy.name, param.name);
  const fromPod = inputs.podAnnotations[key];
  if (fromPod !== undefined) {
    if (param.setBy !== 'pod') {
      return fail(
        denial(
          'ParamNotAllowed',
          `annotation ${key} sets param "${param.name}" of policy "${policy.name}", which ${ALLOWED_WRITERS[param.setBy]}; remove it from the pod`,
          policy.name,
        ),
      );
    }
    return checked(policy, param, {
      name: param.name,
      value: fromPod,
      origin: 'pod',
      where: `annotation ${key}`,
    });
  }
  const fromNamespace = inputs.namespaceAnnotations[key];
  if (fromNamespace !== undefined) {
    const where = `annotation ${key} of namespace "${inputs.namespace}"`;
    if (param.setBy === 'cluster') {
      return fail(
        denial(
          'ParamNotAllowed',
          `${where} sets param "${param.name}" of policy "${policy.name}", which ${ALLOWED_WRITERS.cluster}; remove it from the namespace`,
          policy.name,
        ),
      );
    }
    return checked(policy, param, {
      name: param.name,
      value: fromNamespace,
      origin: 'namespace',
      where,
    });
  }
  const fromCluster = inputs.clusterValues.get(policy.name)?.get(param.name);
  if (fromCluster !== undefined) {
    // Checked when the values were loaded: a value that does not fit never loads.
    const where = `cluster values, ${fromCluster.source}`;
    return ok({ name: param.name, value: fromCluster.value, origin: 'cluster', where });
  }
  if (param.required) {
    const reason = missingRequired(policy, param, inputs);
    return fail(denial('ParamMissing', reason, policy.name));
  }
  const value = param.defaultValue ?? '';
  return ok({ name: param.name, value, origin: 'default', where: undefined });
}

/** missingRequired says who could have set a required param that nobody did. */
function missingRequired(policy: LoadedPolicy, param: CompiledParam, inputs: ParamInputs): string {
  const key = paramAnnotationKey(policy.name, param.name);
  switch (param.setBy) {
    case 'pod':
      return `policy "${policy.name}" requires annotation ${key}, which the pod does not set`;
    case 'namespace':
      return `policy "${policy.name}" requires param "${param.name}", which neither namespace "${inputs.namespace}" (annotation ${key}) nor the cluster values set`;
    case 'cluster':
      return `policy "${policy.name}" requires param "${param.name}", which the cluster values do not set (a PolicyValues document beside the policies)`;
  }
}

/**
 * missingConditional finds a `requiredWhen` param that nobody set while the param it
 * depends on has the value that makes it needed (log-forwarder's host with output=forward).
 * It runs once every value is picked, so the order of the params does not matter.
 */
function missingConditional(
  policy: LoadedPolicy,
  inputs: ParamInputs,
  sources: readonly ParamSource[],
  values: ReadonlyMap<string, string>,
): string | undefined {
  for (const source of sources) {
    const param = policy.params.get(source.name);
    const when = param?.requiredWhen;
    if (param === undefined || when === undefined || source.origin !== 'default') continue;
    if (values.get(when.param) !== when.equals) continue;
    return `${missingRequired(policy, param, inputs)} (needed while param "${when.param}" is "${when.equals}")`;
  }
  return undefined;
}

function checked(policy: LoadedPolicy, param: CompiledParam, source: ParamSource): Pick {
  const problem = paramValueProblem(policy, param, source.value, source.where ?? '');
  if (problem === undefined) return ok(source);
  return fail(denial(problem.code, problem.message, policy.name));
}

/**
 * resolveParams resolves every declared param of `policy` for one pod (see pickValue).
 * Every param is looked at, so a pod with several wrong values hears of all of them.
 */
export function resolveParams(policy: LoadedPolicy, inputs: ParamInputs): ResolvedParams {
  const values = new Map<string, string>();
  const sources: ParamSource[] = [];
  const warnings: string[] = [];
  const defaulted: string[] = [];
  const problems: Denial[] = [];
  for (const param of policy.params.values()) {
    const picked = pickValue(policy, param, inputs);
    if (!picked.ok) {
      problems.push(denial(picked.code, picked.reason, picked.policy));
      continue;
    }
    const source = picked.value;
    values.set(param.name, source.value);
    sources.push(source);
    if (source.origin === 'default' && param.defaultValue !== undefined) {
      defaulted.push(`${param.name}=${param.defaultValue}`);
    }
  }
  const missing = missingConditional(policy, inputs, sources, values);
  if (missing !== undefined) problems.push(denial('ParamMissing', missing, policy.name));
  if (isNonEmpty(problems)) return fail({ ...joinDenials(problems), denials: problems });
  // One line per policy, not one per param: `kubectl apply` prints every warning. Values
  // the admin set (cluster or namespace) are chosen, not fallen back to: no warning.
  if (defaulted.length > 0) {
    warnings.push(
      `policy "${policy.name}" uses defaults for params the pod does not set: ${defaulted.join(', ')}`,
    );
  }
  const prefixLength = policy.name.length + PARAM_ANNOTATION_SUFFIX.length;
  const paramKeys = inputs.podKeys.get(policy.name) ?? [];
  const ignored = paramKeys.filter((key) => !policy.params.has(key.slice(prefixLength)));
  if (ignored.length > 0) warnings.push(ignoredWarning(policy.name, ignored));
  return ok({ values, sources }, warnings);
}

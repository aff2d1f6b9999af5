/**
 * `tandem lint`'s checks beyond loading: what a pod that requests several policies at once
 * would run into, and, on request, whether the injected containers pass a Pod Security
 * Standard. Pure: it reads loaded policies and returns issues.
 */
import type { V1Container, V1Volume } from '@kubernetes/client-node';
import type { PolicyIssue } from '../errors.ts';
import {
  ClaimBook,
  mountPathClaim,
  portClaims,
  type Claim,
  type ClaimKind,
} from '../rules/pod-claims.ts';
import { checkPodSecurity, type PodSecurityLevel } from '../rules/pod-security.ts';
import { withRestrictedDefaults } from '../rules/security-defaults.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { LoadedPolicy } from './compile.ts';
import type { PolicyDirectoryResult, PolicyLocator } from './load.ts';
import type { WebhookView } from '../webhook/evaluate.ts';
import { findUnreachable } from '../webhook/reach.ts';
import { renderTemplate, type TemplateItem } from './template.ts';

/** LintLevel is a Pod Security Standard level that `--pss` can check against. */
export type LintLevel = Extract<PodSecurityLevel, 'baseline' | 'restricted'>;

/** LintOptions turns on the optional checks. */
export interface LintOptions {
  readonly pss?: LintLevel;
  /**
   * reach checks that each policy can be reached through these webhooks (the deployed
   * configuration, or the one derived from the policies); `source` names them.
   */
  readonly reach?: { readonly webhooks: readonly WebhookView[]; readonly source: string };
}

/** Rendered is a policy's injectable content with its params at their defaults. */
interface Rendered {
  readonly containers: readonly JsonObject[];
  readonly initContainers: readonly JsonObject[];
  readonly volumes: readonly JsonObject[];
  readonly mounts: readonly JsonObject[];
}

function objects(value: JsonValue | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
}

/**
 * renderWithDefaults renders a policy as a pod that gives no params would get it: values
 * such as a templated port then compare as what they will usually be.
 */
function renderWithDefaults(policy: LoadedPolicy): Rendered {
  return renderWith(policy, defaultParams(policy));
}

function defaultParams(policy: LoadedPolicy): Map<string, string> {
  const params = new Map<string, string>();
  for (const param of policy.params.values()) {
    if (param.defaultValue !== undefined) params.set(param.name, param.defaultValue);
  }
  return params;
}

function renderWith(policy: LoadedPolicy, params: ReadonlyMap<string, string>): Rendered {
  const scope = { params, namespace: '', podName: '', labels: {}, annotations: {} };
  const content = renderTemplate(policy.template, scope);
  const root = isJsonObject(content) ? content : {};
  const app = isJsonObject(root['appContainer']) ? root['appContainer'] : {};
  return {
    containers: objects(root['containers']),
    initContainers: objects(root['initContainers']),
    volumes: objects(root['volumes']),
    mounts: objects(app['volumeMounts']),
  };
}

/** PolicyClaim is a claim (pod-claims.ts) and where the policy file makes it. */
interface PolicyClaim extends Pick<Claim, 'kind' | 'key'> {
  readonly fieldPath: string;
}

function named(kind: 'container' | 'volume', item: JsonObject, path: string): PolicyClaim[] {
  const name = item['name'];
  return typeof name === 'string' && name !== ''
    ? [{ kind, key: name, fieldPath: `${path}.name` }]
    : [];
}

/**
 * claimsOf lists what a policy claims in a pod, by the rules admission applies
 * (src/rules/pod-claims.ts): names, ports, port names, app mount paths.
 */
function claimsOf(rendered: Rendered): PolicyClaim[] {
  const claims: PolicyClaim[] = [];
  const lists = [
    ['spec.initContainers', rendered.initContainers, true],
    ['spec.containers', rendered.containers, false],
  ] as const;
  for (const [list, containers, init] of lists) {
    for (const [i, item] of containers.entries()) {
      const path = `${list}[${i}]`;
      claims.push(...named('container', item, path));
      // A policy's containers are schema-checked containers: the same type admission reads.
      for (const claim of portClaims(item as unknown as V1Container, init)) {
        claims.push({ ...claim, fieldPath: `${path}.${claim.field}` });
      }
    }
  }
  for (const [i, volume] of rendered.volumes.entries()) {
    claims.push(...named('volume', volume, `spec.volumes[${i}]`));
  }
  for (const [i, mount] of rendered.mounts.entries()) {
    const path = mount['mountPath'];
    if (typeof path !== 'string' || path === '') continue;
    const fieldPath = `spec.appContainer.volumeMounts[${i}].mountPath`;
    claims.push({ ...mountPathClaim(path, fieldPath, i), fieldPath });
  }
  return claims;
}

const SUBJECTS: Record<ClaimKind, (key: string) => string> = {
  container: (key) => `container "${key}"`,
  volume: (key) => `volume "${key}"`,
  port: (key) => `port ${key}`,
  'port name': (key) => `port name "${key}"`,
  'mount path': (key) => `app mount path "${key}"`,
};

function issueAt(
  policy: LoadedPolicy,
  locate: PolicyLocator,
  fieldPath: string,
  message: string,
): PolicyIssue {
  const { line, column } = locate(policy, fieldPath);
  return { file: policy.source.file, line, column, fieldPath, message };
}

/**
 * findConflicts reports, for each claim made twice, the later one, naming the earlier:
 * a pod requesting both policies would be denied or, worse, run two processes on a port.
 */
function findConflicts(policies: readonly LoadedPolicy[], locate: PolicyLocator): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const book = new ClaimBook<{ policy: LoadedPolicy; fieldPath: string }>();
  for (const policy of policies) {
    for (const claim of claimsOf(renderWithDefaults(policy))) {
      const earlier = book.claim(claim, { policy, fieldPath: claim.fieldPath });
      if (earlier === undefined) continue;
      const at = locate(earlier.policy, earlier.fieldPath);
      const where =
        earlier.policy === policy
          ? `earlier in this policy (line ${at.line})`
          : `by policy "${earlier.policy.name}" (${earlier.policy.source.file}:${at.line})`;
      issues.push(
        issueAt(
          policy,
          locate,
          claim.fieldPath,
          `${SUBJECTS[claim.kind](claim.key)} is also added ${where}`,
        ),
      );
    }
  }
  return issues;
}

/** MAX_BRANCH_COMBINATIONS bounds how many renderings `--pss` checks for one policy. */
export const MAX_BRANCH_COMBINATIONS = 256;

/** conditionLiterals maps each param a `$if` compares to the literals it is compared with. */
function conditionLiterals(node: TemplateItem, found: Map<string, Set<string>>): void {
  switch (node.type) {
    case 'when': {
      const literals = found.get(node.param) ?? new Set<string>();
      literals.add(node.equals);
      found.set(node.param, literals);
      for (const item of [...node.then, ...node.otherwise]) conditionLiterals(item, found);
      return;
    }
    case 'array':
      for (const item of node.items) conditionLiterals(item, found);
      return;
    case 'object':
      for (const [, value] of node.entries) conditionLiterals(value, found);
      return;
    default:
      return;
  }
}

/**
 * branchChoices lists, for each param a `$if` compares, the values that choose its
 * branches: each literal, and one value equal to none of them (the default or example
 * where it is one, else a made-up one), so every branch of every conditional is rendered.
 */
function branchChoices(policy: LoadedPolicy): [string, Choice[]][] {
  const literals = new Map<string, Set<string>>();
  conditionLiterals(policy.template, literals);
  return [...literals].map(([name, equals]) => {
    const param = policy.params.get(name);
    const choices = [...equals].map((value) => ({ value, label: `${name}=${value}` }));
    const other = [param?.defaultValue, param?.example].find(
      (value) => value !== undefined && !equals.has(value),
    );
    if (other !== undefined) {
      choices.push({ value: other, label: `${name}=${other}` });
    } else {
      // No value the policy names equals none of the literals: any other value will do.
      const made =
        param?.type === 'integer'
          ? String(Math.max(0, ...[...equals].map(Number)) + 1)
          : `${[...equals].join('')}-other`;
      choices.push({ value: made, label: `${name} not ${[...equals].join(' or ')}` });
    }
    return [name, choices];
  });
}

/** Choice is one value a conditional param is rendered with, and how a message names it. */
interface Choice {
  readonly value: string;
  readonly label: string;
}

/** Combination is one rendering's params, and the conditional values it chose. */
interface Combination {
  readonly params: ReadonlyMap<string, string>;
  /** chosen names the conditional params that differ from their defaults, `a=x, b=y`. */
  readonly chosen: string;
}

/**
 * branchCombinations lists the param values that render every combination of a policy's
 * conditional branches, the defaults first; undefined when there are more than
 * MAX_BRANCH_COMBINATIONS.
 */
function branchCombinations(policy: LoadedPolicy): Combination[] | undefined {
  const defaults = defaultParams(policy);
  let combinations: Map<string, Choice>[] = [new Map<string, Choice>()];
  for (const [name, choices] of branchChoices(policy)) {
    // The default's own rendering comes first: its issues keep their plain message.
    const isDefault = (choice: Choice) => Number(choice.value === defaults.get(name));
    const ordered = [...choices].sort((a, b) => isDefault(b) - isDefault(a));
    combinations = combinations.flatMap((combination) =>
      ordered.map((choice) => new Map([...combination, [name, choice]])),
    );
    if (combinations.length > MAX_BRANCH_COMBINATIONS) return undefined;
  }
  return combinations.map((combination) => {
    const changed = [...combination].filter(([name, { value }]) => defaults.get(name) !== value);
    const values = [...combination].map(([name, { value }]) => [name, value] as const);
    return {
      params: new Map([...defaults, ...values]),
      chosen: changed.map(([, { label }]) => label).join(', '),
    };
  });
}

/**
 * checkPolicySecurity judges every combination of the policy's conditional branches, not
 * only the defaults' (a branch a pod can choose is injected as surely as the default):
 * each violation is reported once, naming the param values that bring it when the
 * defaults do not.
 */
function checkPolicySecurity(
  policy: LoadedPolicy,
  level: LintLevel,
  locate: PolicyLocator,
): PolicyIssue[] {
  const combinations = branchCombinations(policy);
  if (combinations === undefined) {
    return [
      issueAt(
        policy,
        locate,
        'spec',
        `Pod Security "${level}": the policy's conditionals have more than ${MAX_BRANCH_COMBINATIONS} combinations of branches, too many to check each`,
      ),
    ];
  }
  const issues = new Map<string, PolicyIssue>();
  for (const { params, chosen } of combinations) {
    for (const issue of securityIssues(policy, renderWith(policy, params), level, locate)) {
      const key = `${issue.fieldPath}\n${issue.message}`;
      if (issues.has(key)) continue;
      const message = chosen === '' ? issue.message : `${issue.message} (with ${chosen})`;
      issues.set(key, { ...issue, message });
    }
  }
  return [...issues.values()];
}

function securityIssues(
  policy: LoadedPolicy,
  rendered: Rendered,
  level: LintLevel,
  locate: PolicyLocator,
): PolicyIssue[] {
  // The engine puts tandem's restricted defaults under each injected container's own
  // securityContext (SPEC §3 rule 5), so a policy is judged as it will be injected.
  const lists = [
    ['spec.initContainers', rendered.initContainers],
    ['spec.containers', rendered.containers],
  ] as const;
  const paths = new Map<string, string>();
  const containers: V1Container[] = [];
  for (const [list, items] of lists) {
    for (const [i, item] of items.entries()) {
      const container = withRestrictedDefaults(item as unknown as V1Container);
      containers.push(container);
      paths.set(container.name, `${list}[${i}].securityContext`);
    }
  }
  const volumes = rendered.volumes as unknown as V1Volume[];
  return checkPodSecurity({ containers, volumes }, level).map((violation) => {
    const fieldPath =
      violation.container === undefined
        ? 'spec.volumes'
        : (paths.get(violation.container) ?? 'spec.containers');
    return issueAt(policy, locate, fieldPath, `Pod Security "${level}": ${violation.message}`);
  });
}

function byFileAndPosition(a: PolicyIssue, b: PolicyIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}

/**
 * lintPolicies returns the load issues plus the conflicts between loaded policies and,
 * with `pss`, each Pod Security Standard rule an injected container would break.
 */
export function lintPolicies(
  result: PolicyDirectoryResult,
  options: LintOptions = {},
): PolicyIssue[] {
  const policies = [...result.set.byName.values()];
  const locate: PolicyLocator =
    result.locate ?? ((policy) => ({ line: policy.source.line, column: 1 }));
  const issues = [...result.issues, ...findConflicts(policies, locate)];
  if (options.pss !== undefined) {
    const level = options.pss;
    issues.push(...policies.flatMap((policy) => checkPolicySecurity(policy, level, locate)));
  }
  const reach = options.reach;
  if (reach !== undefined) {
    for (const policy of policies) {
      for (const found of findUnreachable(policy, reach.webhooks, reach.source)) {
        issues.push(issueAt(policy, locate, found.fieldPath, found.message));
      }
    }
  }
  return issues.sort(byFileAndPosition);
}

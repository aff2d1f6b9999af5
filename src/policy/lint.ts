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
import { renderTemplate } from './template.ts';

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
  const params = new Map<string, string>();
  for (const param of policy.params.values()) {
    if (param.defaultValue !== undefined) params.set(param.name, param.defaultValue);
  }
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

function checkPolicySecurity(
  policy: LoadedPolicy,
  level: LintLevel,
  locate: PolicyLocator,
): PolicyIssue[] {
  const rendered = renderWithDefaults(policy);
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

/**
 * `tandem lint`'s checks beyond loading: what a pod that requests several policies at once
 * would run into, and, on request, whether the injected containers pass a Pod Security
 * Standard. Pure: it reads loaded policies and returns issues.
 */
import type { V1Container, V1Volume } from '@kubernetes/client-node';
import type { PolicyIssue } from '../errors.ts';
import { resolveMountPath } from '../inject/mount-path.ts';
import { checkPodSecurity, type PodSecurityLevel } from '../inject/pod-security.ts';
import { withRestrictedDefaults } from '../inject/security-defaults.ts';
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

/** Claim is one name or value a policy adds to a pod that must be unique in the pod. */
interface Claim {
  /** subject names the claim for a message, e.g. `container "shipper"`. */
  readonly subject: string;
  readonly fieldPath: string;
}

/** Rendered is a policy's injectable content with its params at their defaults. */
interface Rendered {
  readonly containers: readonly JsonObject[];
  readonly initContainers: readonly JsonObject[];
  readonly volumes: readonly JsonObject[];
  readonly mounts: readonly JsonObject[];
  readonly env: readonly JsonObject[];
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
    env: objects(app['env']),
  };
}

function text(value: JsonValue | undefined): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  // 0 is what an integer param without a default renders to: no real port to compare.
  if (typeof value === 'number' && value !== 0) return String(value);
  return undefined;
}

function portClaims(container: JsonObject, path: string): Claim[] {
  const claims: Claim[] = [];
  for (const [j, port] of objects(container['ports']).entries()) {
    const number = text(port['containerPort']);
    const name = text(port['name']);
    if (number !== undefined) {
      claims.push({ subject: `port ${number}`, fieldPath: `${path}.ports[${j}].containerPort` });
    }
    if (name !== undefined) {
      claims.push({ subject: `port name "${name}"`, fieldPath: `${path}.ports[${j}].name` });
    }
  }
  return claims;
}

/** claimsOf lists everything a policy adds that another policy must not add too. */
function claimsOf(rendered: Rendered): Claim[] {
  const claims: Claim[] = [];
  const lists = [
    ['spec.initContainers', rendered.initContainers],
    ['spec.containers', rendered.containers],
  ] as const;
  for (const [list, containers] of lists) {
    for (const [i, container] of containers.entries()) {
      const path = `${list}[${i}]`;
      const name = text(container['name']);
      // Init and app containers share one namespace of names in a pod.
      if (name !== undefined) {
        claims.push({ subject: `container "${name}"`, fieldPath: `${path}.name` });
      }
      // Ports are held only by containers that keep running: a plain init container has
      // exited before the app starts, a native sidecar (restartPolicy Always) has not.
      if (list === 'spec.containers' || container['restartPolicy'] === 'Always') {
        claims.push(...portClaims(container, path));
      }
    }
  }
  const more: [string, readonly JsonObject[], string, string][] = [
    ['spec.volumes', rendered.volumes, 'name', 'volume'],
    ['spec.appContainer.env', rendered.env, 'name', 'app env var'],
    ['spec.appContainer.volumeMounts', rendered.mounts, 'mountPath', 'app mount path'],
  ];
  for (const [list, items, key, label] of more) {
    for (const [i, item] of items.entries()) {
      const raw = text(item[key]);
      // Two spellings of one directory (`/var/log/app/`, `/var/log/app`) are one mount.
      const value = raw !== undefined && key === 'mountPath' ? resolveMountPath(raw) : raw;
      if (value !== undefined) {
        claims.push({ subject: `${label} "${value}"`, fieldPath: `${list}[${i}].${key}` });
      }
    }
  }
  return claims;
}

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
  const first = new Map<string, { policy: LoadedPolicy; fieldPath: string }>();
  for (const policy of policies) {
    for (const claim of claimsOf(renderWithDefaults(policy))) {
      const earlier = first.get(claim.subject);
      if (earlier === undefined) {
        first.set(claim.subject, { policy, fieldPath: claim.fieldPath });
        continue;
      }
      const at = locate(earlier.policy, earlier.fieldPath);
      const where =
        earlier.policy === policy
          ? `earlier in this policy (line ${at.line})`
          : `by policy "${earlier.policy.name}" (${earlier.policy.source.file}:${at.line})`;
      issues.push(
        issueAt(policy, locate, claim.fieldPath, `${claim.subject} is also added ${where}`),
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

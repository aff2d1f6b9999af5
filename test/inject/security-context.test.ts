import t from 'tap';
import path from 'node:path';
import type {
  V1Container,
  V1Pod,
  V1PodSecurityContext,
  V1SecurityContext,
} from '@kubernetes/client-node';
import { injectPod } from '../../src/inject/engine.ts';
import { DEFAULT_RUN_AS_USER, withRestrictedDefaults } from '../../src/rules/security-defaults.ts';
import { buildPolicySet } from '../../src/policy/compile.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { appPod } from '../fixtures/pods.ts';
import { context, policySet } from '../fixtures/policies.ts';

// Policies that leave the user to tandem, beside the built-ins that name their own.
const BARE = policySet(`
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: bare}
spec:
  pattern: sidecar
  initContainers:
    - {name: bare-init, image: registry.example/init:1}
  containers:
    - {name: bare, image: registry.example/bare:1}
---
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: group-only}
spec:
  pattern: sidecar
  containers:
    - name: group-only
      image: registry.example/group:1
      securityContext: {runAsGroup: 4000}
`);
const builtins = await loadPolicies(path.join(REPO_ROOT, 'policies'));
const policies = buildPolicySet([...builtins.byName.values(), ...BARE.byName.values()]);

const REQUEST = {
  'tandem.dev/inject': 'log-forwarder, redis-ambassador, metrics-adapter, bare, group-only',
  'redis-ambassador.tandem.dev/upstreams': 'redis-0.cache:6379',
  'redis-ambassador.tandem.dev/listenPort': '16379',
  'log-forwarder.tandem.dev/host': 'fluentd.logging',
};

/** Effective is what the kubelet runs an injected container with. */
interface Effective {
  readonly runAsUser: number | undefined;
  readonly runAsNonRoot: boolean | undefined;
  readonly seccomp: string | undefined;
  readonly allowPrivilegeEscalation: boolean | undefined;
  readonly dropsAll: boolean;
}

/** effective merges the container's securityContext over the pod's, as the kubelet does. */
function effective(pod: V1PodSecurityContext, own: V1SecurityContext): Effective {
  return {
    runAsUser: own.runAsUser ?? pod.runAsUser,
    runAsNonRoot: own.runAsNonRoot ?? pod.runAsNonRoot,
    seccomp: (own.seccompProfile ?? pod.seccompProfile)?.type,
    allowPrivilegeEscalation: own.allowPrivilegeEscalation,
    dropsAll: (own.capabilities?.drop ?? []).includes('ALL'),
  };
}

/** startsRestricted says what keeps the container from starting or from the restricted level. */
function startsRestricted(name: string, e: Effective): string[] {
  const problems: string[] = [];
  // kubelet verifyRunAsNonRoot: uid 0 is refused, and no uid leaves it to the image.
  if (e.runAsUser === undefined || e.runAsUser === 0) problems.push(`${name}: uid ${e.runAsUser}`);
  if (e.runAsNonRoot !== true) problems.push(`${name}: runAsNonRoot ${e.runAsNonRoot}`);
  if (e.seccomp !== 'RuntimeDefault' && e.seccomp !== 'Localhost')
    problems.push(`${name}: seccomp ${e.seccomp}`);
  if (e.allowPrivilegeEscalation !== false) problems.push(`${name}: privilege escalation`);
  if (!e.dropsAll) problems.push(`${name}: capabilities`);
  return problems;
}

/** podSecurityContexts is every combination of the pod-level fields, as the API server accepts them. */
function podSecurityContexts(): V1PodSpecFields[] {
  const out: V1PodSpecFields[] = [];
  const users = [undefined, 0, 1000];
  const groups = [undefined, 0, 3000];
  const fsGroups = [undefined, 0, 2000];
  const nonRoot = [undefined, true, false];
  const seccomp = [
    undefined,
    { type: 'RuntimeDefault' },
    { type: 'Unconfined' },
    { type: 'Localhost', localhostProfile: 'profiles/app.json' },
  ];
  // windowsOptions are refused on a pod that says os.name linux, and ignored by a Linux
  // node otherwise; hostProcess true makes a Windows pod, which tandem leaves alone.
  const systems: Pick<V1PodSpecFields, 'os' | 'windowsOptions'>[] = [
    { os: undefined, windowsOptions: undefined },
    { os: 'linux', windowsOptions: undefined },
    { os: undefined, windowsOptions: { runAsUserName: 'ContainerUser' } },
    { os: undefined, windowsOptions: { gmsaCredentialSpecName: 'gmsa' } },
    { os: undefined, windowsOptions: { hostProcess: false } },
  ];
  for (const runAsUser of users)
    for (const runAsGroup of groups)
      for (const fsGroup of fsGroups)
        for (const runAsNonRoot of nonRoot)
          for (const seccompProfile of seccomp)
            for (const system of systems)
              out.push({ runAsUser, runAsGroup, fsGroup, runAsNonRoot, seccompProfile, ...system });
  return out;
}

interface V1PodSpecFields {
  runAsUser: number | undefined;
  runAsGroup: number | undefined;
  fsGroup: number | undefined;
  runAsNonRoot: boolean | undefined;
  seccompProfile: { type: string; localhostProfile?: string } | undefined;
  windowsOptions: V1PodSecurityContext['windowsOptions'];
  os: string | undefined;
}

function podWith(fields: V1PodSpecFields): V1Pod {
  const pod = appPod({ ...REQUEST });
  const { os, ...rest } = fields;
  const securityContext = Object.fromEntries(
    Object.entries(rest).filter(([, value]) => value !== undefined),
  ) as V1PodSecurityContext;
  if (pod.spec) {
    pod.spec.securityContext = securityContext;
    if (os !== undefined) pod.spec.os = { name: os };
  }
  return pod;
}

t.test(
  'every injected container starts and meets restricted under every pod-level securityContext',
  (t) => {
    const combos = podSecurityContexts();
    const failures: string[] = [];
    for (const fields of combos) {
      const pod = podWith(fields);
      const label = JSON.stringify(fields);
      const result = injectPod(pod, policies, context());
      if (result.outcome !== 'patched') {
        failures.push(`${label}: ${result.outcome}`);
        continue;
      }
      const out = applyPatch(pod, result.patch);
      const podSc = out.spec?.securityContext ?? {};
      const injected: V1Container[] = [
        ...(out.spec?.initContainers ?? []),
        ...(out.spec?.containers ?? []),
      ].filter((c) => c.name !== 'app');
      for (const c of injected) {
        const problems = startsRestricted(c.name, effective(podSc, c.securityContext ?? {}));
        failures.push(...problems.map((p) => `${label}: ${p}`));
      }
      failures.push(...checkPod(out).map((p) => `${label}: ${p}`));
    }
    t.equal(combos.length, 1620, 'every combination was tried');
    t.strictSame(failures, []);
    t.end();
  },
);

t.test(
  'a policy that names no user gets uid and gid 65532; one that names its user keeps it',
  (t) => {
    const pod = podWith({
      runAsUser: 0,
      runAsGroup: 0,
      fsGroup: undefined,
      runAsNonRoot: undefined,
      seccompProfile: undefined,
      windowsOptions: undefined,
      os: undefined,
    });
    const result = injectPod(pod, policies, context());
    const out = result.outcome === 'patched' ? applyPatch(pod, result.patch) : pod;
    const users = Object.fromEntries(
      (out.spec?.initContainers ?? []).map((c) => [
        c.name,
        [c.securityContext?.runAsUser, c.securityContext?.runAsGroup],
      ]),
    );
    t.strictSame(users, {
      'tandem-fluent-bit': [65534, 65534],
      'tandem-nutcracker-config': [65534, 65534],
      'tandem-nutcracker': [65534, 65534],
      'tandem-nutcracker-gate': [65534, 65534],
      'tandem-redis-exporter': [59000, 59000],
      'bare-init': [DEFAULT_RUN_AS_USER, DEFAULT_RUN_AS_USER],
      bare: [DEFAULT_RUN_AS_USER, DEFAULT_RUN_AS_USER],
      'group-only': [DEFAULT_RUN_AS_USER, 4000],
    });
    t.end();
  },
);

t.test('a policy that asks for root gets no runAsNonRoot that would contradict it', (t) => {
  t.strictSame(
    withRestrictedDefaults({ name: 'root', image: 'x:1', securityContext: { runAsUser: 0 } })
      .securityContext,
    {
      allowPrivilegeEscalation: false,
      seccompProfile: { type: 'RuntimeDefault' },
      runAsUser: 0,
      capabilities: { drop: ['ALL'] },
    },
  );
  t.strictSame(
    withRestrictedDefaults({ name: 'any', image: 'x:1', securityContext: { runAsNonRoot: false } })
      .securityContext,
    {
      allowPrivilegeEscalation: false,
      seccompProfile: { type: 'RuntimeDefault' },
      runAsNonRoot: false,
      capabilities: { drop: ['ALL'] },
    },
  );
  t.end();
});

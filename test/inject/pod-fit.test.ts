import t from 'tap';
import type { V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { explainPod, injectPod } from '../../src/inject/engine.ts';
import type { InjectResult } from '../../src/inject/types.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { appPod } from '../fixtures/pods.ts';
import { context, policySet } from '../fixtures/policies.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';

const policies = policySet(TEST_POLICIES);
const SHIPPER = { 'tandem.dev/inject': 'shipper', 'shipper.tandem.dev/dest': 'logs.example:24224' };
const MESH = { mesh: 'enabled' };

function withSpec(pod: V1Pod, change: (spec: V1PodSpec) => void): V1Pod {
  if (pod.spec) change(pod.spec);
  return pod;
}

function denial(result: InjectResult): string {
  return result.outcome === 'denied'
    ? `${result.code}: ${result.reason}`
    : `not denied: ${result.outcome}`;
}

const WINDOWS_SIGNS: [string, (spec: V1PodSpec) => void, string][] = [
  ['spec.os.name', (s) => (s.os = { name: 'windows' }), 'spec.os.name: windows'],
  [
    'a node selector',
    (s) => (s.nodeSelector = { 'kubernetes.io/os': 'windows' }),
    'nodeSelector kubernetes.io/os: windows',
  ],
  [
    'a required node affinity whose every term asks for Windows',
    (s) =>
      (s.affinity = {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
                  { key: 'kubernetes.io/os', operator: 'In', values: ['windows'] },
                ],
              },
              {
                matchExpressions: [
                  { key: 'kubernetes.io/os', operator: 'NotIn', values: ['linux'] },
                ],
              },
            ],
          },
        },
      }),
    'required node affinity on kubernetes.io/os=windows',
  ],
  [
    'a pod-level HostProcess',
    (s) => {
      s.hostNetwork = true;
      s.securityContext = { windowsOptions: { hostProcess: true } };
    },
    'securityContext.windowsOptions.hostProcess: true',
  ],
  [
    'a container-level HostProcess',
    (s) => {
      s.hostNetwork = true;
      const app = s.containers[0];
      if (app) app.securityContext = { windowsOptions: { hostProcess: true } };
    },
    'container "app" sets windowsOptions.hostProcess: true',
  ],
];

t.test('a Windows pod, whichever way it says so, is denied a requested policy', (t) => {
  for (const [name, change, sign] of WINDOWS_SIGNS) {
    t.strictSame(
      injectPod(withSpec(appPod(SHIPPER), change), policies, context()),
      {
        outcome: 'denied',
        code: 'WindowsPod',
        policy: 'shipper',
        reason: `tandem.dev/inject requests policy "shipper", but tandem injects Linux containers, and this is a Windows pod (${sign})`,
        warnings: [],
      },
      name,
    );
  }
  t.end();
});

t.test(
  'a Windows pod, whichever way it says so, skips automatic policies and explain says why',
  (t) => {
    for (const [name, change, sign] of WINDOWS_SIGNS) {
      const pod = withSpec(appPod({}, MESH), change);
      t.strictSame(
        injectPod(pod, policies, context()),
        { outcome: 'unchanged', warnings: [] },
        name,
      );
      const mesh = explainPod(pod, policies, context()).decisions.find((d) => d.policy === 'mesh');
      t.strictSame(
        mesh,
        {
          policy: 'mesh',
          decision: 'skip',
          reason: `tandem injects Linux containers, and this is a Windows pod (${sign})`,
        },
        name,
      );
    }
    t.end();
  },
);

t.test('a pod that may still land on Linux is not a Windows pod', (t) => {
  const cases: [string, (spec: V1PodSpec) => void][] = [
    ['a Linux node selector', (s) => (s.nodeSelector = { 'kubernetes.io/os': 'linux' })],
    [
      'an affinity with a Linux alternative',
      (s) =>
        (s.affinity = {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'kubernetes.io/os', operator: 'In', values: ['windows'] },
                  ],
                },
                {
                  matchExpressions: [
                    { key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] },
                  ],
                },
              ],
            },
          },
        }),
    ],
    [
      'an affinity that allows either OS',
      (s) =>
        (s.affinity = {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'kubernetes.io/os', operator: 'In', values: ['windows', 'linux'] },
                  ],
                },
              ],
            },
          },
        }),
    ],
    [
      'hostProcess false',
      (s) => (s.securityContext = { windowsOptions: { hostProcess: false, runAsUserName: 'x' } }),
    ],
  ];
  for (const [name, change] of cases) {
    const pod = withSpec(appPod(SHIPPER), change);
    const result = injectPod(pod, policies, context());
    t.equal(result.outcome, 'patched', name);
    if (result.outcome === 'patched')
      t.strictSame(checkPod(applyPatch(pod, result.patch)), [], name);
  }
  t.end();
});

const HOST_NETWORK_POLICIES = policySet(`
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: listener}
spec:
  pattern: ambassador
  selector: {matchLabels: {mesh: enabled}}
  containers:
    - name: listener
      image: registry.example/listener:1
      ports: [{containerPort: 6379}]
---
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: tailer}
spec:
  pattern: sidecar
  hostNetwork: allowed
  selector: {matchLabels: {mesh: enabled}}
  containers:
    - name: tailer
      image: registry.example/tailer:1
`);

function hostNetworkPod(annotations: Record<string, string>): V1Pod {
  return withSpec(appPod(annotations, MESH), (s) => (s.hostNetwork = true));
}

t.test(
  'a hostNetwork pod skips automatic policies that do not support it, and explain says why',
  (t) => {
    const pod = hostNetworkPod({});
    const explained = explainPod(pod, HOST_NETWORK_POLICIES, context());
    t.strictSame(explained.decisions, [
      {
        policy: 'listener',
        decision: 'skip',
        reason: 'the pod uses hostNetwork, which the policy does not support (spec.hostNetwork)',
      },
      {
        policy: 'tailer',
        decision: 'inject',
        reason: "selector mesh=enabled matches the pod's labels",
      },
    ]);
    const result = explained.result;
    t.strictSame(result.outcome === 'patched' ? result.injected.map((p) => p.name) : [], [
      'tailer',
    ]);
    if (result.outcome === 'patched') t.strictSame(checkPod(applyPatch(pod, result.patch)), []);
    t.end();
  },
);

t.test('a hostNetwork pod is denied a requested policy that does not support it', (t) => {
  t.strictSame(
    denial(
      injectPod(
        hostNetworkPod({ 'tandem.dev/inject': 'listener' }),
        HOST_NETWORK_POLICIES,
        context(),
      ),
    ),
    'HostNetworkPod: tandem.dev/inject requests policy "listener", but the pod uses hostNetwork and the policy does not support it: its containers would listen on the node\'s own network, where their ports clash with the node\'s and with other such pods (a policy opts in with spec.hostNetwork: allowed)',
  );
  const explained = explainPod(
    hostNetworkPod({ 'tandem.dev/inject': 'listener' }),
    HOST_NETWORK_POLICIES,
    context(),
  );
  t.strictSame(explained.decisions[0], {
    policy: 'listener',
    decision: 'deny',
    reason: 'the pod uses hostNetwork, which the policy does not support (spec.hostNetwork)',
  });
  t.end();
});

t.test('a hostNetwork pod gets a requested policy that declares hostNetwork: allowed', (t) => {
  const result = injectPod(
    hostNetworkPod({ 'tandem.dev/inject': 'tailer' }),
    HOST_NETWORK_POLICIES,
    context(),
  );
  t.strictSame(result.outcome === 'patched' ? result.injected : [], [
    {
      name: 'tailer',
      hash: HOST_NETWORK_POLICIES.byName.get('tailer')?.hash,
      reason: 'annotation',
    },
  ]);
  t.end();
});

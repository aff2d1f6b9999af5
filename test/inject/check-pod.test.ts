import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { checkPod } from '../fixtures/check-pod.ts';

// The checker that judges every patched pod must itself catch what the API server would
// reject, or every test that uses it proves nothing.
const base = (): V1Pod => ({
  metadata: {
    name: 'p',
    annotations: { 'tandem.dev/status': '{"policies":[],"containers":["side"],"volumes":[]}' },
  },
  spec: {
    containers: [{ name: 'app', image: 'a:1' }],
    initContainers: [
      {
        name: 'side',
        image: 's:1',
        restartPolicy: 'Always',
        securityContext: {
          allowPrivilegeEscalation: false,
          runAsNonRoot: true,
          runAsUser: 65532,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
      },
    ],
  },
});

t.test('accepts a valid pod with a restricted native sidecar', (t) => {
  t.strictSame(checkPod(base()), []);
  t.end();
});

const cases: [string, (pod: V1Pod) => void, RegExp][] = [
  [
    'a duplicate container name across init and app containers',
    (p) => p.spec?.containers.push({ name: 'side', image: 'x' }),
    /container name "side" is not unique/,
  ],
  [
    'a mount of a missing volume',
    (p) => {
      if (p.spec?.containers[0])
        p.spec.containers[0].volumeMounts = [{ name: 'v', mountPath: '/v' }];
    },
    /mounts volume "v", which the pod lacks/,
  ],
  [
    'a port protocol outside the schema',
    (p) => {
      if (p.spec?.containers[0])
        p.spec.containers[0].ports = [{ containerPort: 80, protocol: 'tcp' }];
    },
    /schema: .*protocol/,
  ],
  [
    'a port name that is not an IANA service name',
    (p) => {
      if (p.spec?.containers[0])
        p.spec.containers[0].ports = [{ containerPort: 80, name: 'HTTP_port' }];
    },
    /not an IANA_SVC_NAME/,
  ],
  [
    'probes on a plain init container',
    (p) =>
      p.spec?.initContainers?.push({
        name: 'init',
        image: 'i',
        startupProbe: { tcpSocket: { port: 1 } },
      }),
    /may not have probes/,
  ],
  [
    'restartPolicy on an app container',
    (p) => {
      if (p.spec?.containers[0]) p.spec.containers[0].restartPolicy = 'Always';
    },
    /may not set restartPolicy/,
  ],
  [
    'an injected container that may escalate',
    (p) => {
      const sc = p.spec?.initContainers?.[0]?.securityContext;
      if (sc) sc.allowPrivilegeEscalation = true;
    },
    /allows privilege escalation/,
  ],
  [
    'an injected container without a seccomp profile',
    (p) => {
      const sc = p.spec?.initContainers?.[0]?.securityContext;
      if (sc) delete sc.seccompProfile;
    },
    /no seccomp profile/,
  ],
  [
    'an injected container that inherits uid 0 under runAsNonRoot, which the kubelet refuses',
    (p) => {
      delete p.spec?.initContainers?.[0]?.securityContext?.runAsUser;
      if (p.spec) p.spec.securityContext = { runAsUser: 0 };
    },
    /injected container "side" has runAsNonRoot with uid 0: the kubelet refuses to start it/,
  ],
  [
    "an injected container under runAsNonRoot that leaves its uid to the image's USER",
    (p) => {
      delete p.spec?.initContainers?.[0]?.securityContext?.runAsUser;
    },
    /has runAsNonRoot and no runAsUser/,
  ],
  [
    'an injected container with a group and no user',
    (p) => {
      const sc = p.spec?.initContainers?.[0]?.securityContext;
      if (sc) {
        delete sc.runAsUser;
        sc.runAsNonRoot = false;
      }
      if (p.spec) p.spec.securityContext = { runAsGroup: 1000 };
    },
    /has a runAsGroup and no runAsUser/,
  ],
  [
    'container requests past the pod-level requests',
    (p) => {
      if (!p.spec?.containers[0]) return;
      p.spec.resources = { requests: { cpu: '100m' } };
      p.spec.containers[0].resources = { requests: { cpu: '80m' } };
      const side = p.spec.initContainers?.[0];
      if (side) side.resources = { limits: { cpu: '30m' } };
    },
    /spec\.resources\.requests\[cpu\]: must be greater than or equal to aggregate container requests/,
  ],
  [
    'a pod-level limit under the request the API server defaults from the containers',
    (p) => {
      if (!p.spec?.containers[0]) return;
      p.spec.resources = { limits: { memory: '64Mi' } };
      p.spec.containers[0].resources = { requests: { memory: '100Mi' } };
    },
    /spec\.resources\.requests\[memory\]: must be less than or equal to memory limit/,
  ],
  [
    'a container limit past the pod-level limit',
    (p) => {
      if (!p.spec?.containers[0]) return;
      p.spec.resources = { limits: { memory: '64Mi' } };
      p.spec.containers[0].resources = { limits: { memory: '1Gi' } };
    },
    /container "app" limits\[memory\]: must be less than or equal to pod limits/,
  ],
  [
    'an invalid annotation key',
    (p) => {
      if (p.metadata?.annotations) p.metadata.annotations['bad key'] = 'x';
    },
    /not a qualified name/,
  ],
];

for (const [name, breakIt, expected] of cases) {
  t.test(`rejects ${name}`, (t) => {
    const pod = base();
    breakIt(pod);
    t.match(checkPod(pod).join('\n'), expected);
    t.end();
  });
}

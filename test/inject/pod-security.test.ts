import t from 'tap';
import type { V1Container, V1SecurityContext, V1Volume } from '@kubernetes/client-node';
import {
  checkPodSecurity,
  type PodSecurityLevel,
  type PodSecurityRule,
} from '../../src/rules/pod-security.ts';
import { withRestrictedDefaults } from '../../src/rules/security-defaults.ts';

// What the engine injects for a policy that sets nothing: tandem's restricted defaults.
const restrictedContext = (): V1SecurityContext => ({
  allowPrivilegeEscalation: false,
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
  capabilities: { drop: ['ALL'] },
});

type ContextField = keyof V1SecurityContext;

/**
 * sidecar is a container with the restricted defaults, `overrides` on top and the
 * `unset` fields taken out.
 */
function sidecar(
  overrides: V1SecurityContext = {},
  extra: Partial<V1Container> = {},
  unset: readonly ContextField[] = [],
): V1Container {
  const securityContext: V1SecurityContext = { ...restrictedContext(), ...overrides };
  for (const field of unset) delete securityContext[field];
  return { name: 'side', image: 'x:1', ...extra, securityContext };
}

/** rules lists `rule@container` for each violation, the shape the tables compare. */
function rules(
  containers: V1Container[],
  level: PodSecurityLevel,
  volumes: V1Volume[] = [],
): string[] {
  return checkPodSecurity({ containers, volumes }, level).map(
    (v) => `${v.rule}@${v.container ?? '-'}`,
  );
}

interface Case {
  readonly name: string;
  readonly context?: V1SecurityContext;
  readonly unset?: readonly ContextField[];
  readonly container?: Partial<V1Container>;
  readonly volume?: V1Volume;
  /** what each level reports, as `rule@container`. */
  readonly baseline: string[];
  readonly restricted: string[];
}

const at = (rule: PodSecurityRule, container = 'side'): string => `${rule}@${container}`;

const cases: Case[] = [
  { name: "tandem's restricted defaults", baseline: [], restricted: [] },
  {
    name: 'a privileged container',
    context: { privileged: true },
    baseline: [at('privileged')],
    restricted: [at('privileged')],
  },
  {
    name: 'a Windows HostProcess container',
    context: { windowsOptions: { hostProcess: true } },
    baseline: [at('windowsHostProcess')],
    restricted: [at('windowsHostProcess')],
  },
  {
    name: 'a capability from the baseline set (CHOWN)',
    context: { capabilities: { drop: ['ALL'], add: ['CHOWN'] } },
    baseline: [],
    restricted: [at('capabilities')],
  },
  {
    name: 'NET_BIND_SERVICE, the one capability restricted allows',
    context: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
    baseline: [],
    restricted: [],
  },
  {
    name: 'a capability beyond the baseline set (SYS_ADMIN), also with its CAP_ prefix',
    context: { capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'CAP_NET_RAW'] } },
    baseline: [at('capabilities')],
    restricted: [at('capabilities')],
  },
  {
    name: 'capabilities not dropping ALL',
    context: { capabilities: { drop: ['NET_RAW'] } },
    baseline: [],
    restricted: [at('capabilities')],
  },
  {
    name: 'a host port',
    container: { ports: [{ containerPort: 80, hostPort: 8080 }] },
    baseline: [at('hostPorts')],
    restricted: [at('hostPorts')],
  },
  {
    name: 'a host port of 0, which means none',
    container: { ports: [{ containerPort: 80, hostPort: 0 }] },
    baseline: [],
    restricted: [],
  },
  {
    name: 'allowPrivilegeEscalation left unset',
    unset: ['allowPrivilegeEscalation'],
    baseline: [],
    restricted: [at('allowPrivilegeEscalation')],
  },
  {
    name: 'allowPrivilegeEscalation true',
    context: { allowPrivilegeEscalation: true },
    baseline: [],
    restricted: [at('allowPrivilegeEscalation')],
  },
  {
    name: 'runAsNonRoot false',
    context: { runAsNonRoot: false },
    baseline: [],
    restricted: [at('runAsNonRoot')],
  },
  {
    name: 'runAsNonRoot left unset on the container',
    unset: ['runAsNonRoot'],
    baseline: [],
    restricted: [at('runAsNonRoot')],
  },
  {
    name: 'runAsUser 0',
    context: { runAsUser: 0 },
    baseline: [],
    restricted: [at('runAsUser')],
  },
  {
    name: 'a non-zero runAsUser',
    context: { runAsUser: 65534 },
    baseline: [],
    restricted: [],
  },
  {
    name: 'seccomp Unconfined',
    context: { seccompProfile: { type: 'Unconfined' } },
    baseline: [at('seccompProfile')],
    restricted: [at('seccompProfile')],
  },
  {
    name: 'seccomp Localhost',
    context: { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } },
    baseline: [],
    restricted: [],
  },
  {
    name: 'seccomp left unset',
    unset: ['seccompProfile'],
    baseline: [],
    restricted: [at('seccompProfile')],
  },
  {
    name: 'procMount Unmasked',
    context: { procMount: 'Unmasked' },
    baseline: [at('procMount')],
    restricted: [at('procMount')],
  },
  {
    name: 'AppArmor Unconfined',
    context: { appArmorProfile: { type: 'Unconfined' } },
    baseline: [at('appArmorProfile')],
    restricted: [at('appArmorProfile')],
  },
  {
    name: 'AppArmor RuntimeDefault',
    context: { appArmorProfile: { type: 'RuntimeDefault' } },
    baseline: [],
    restricted: [],
  },
  {
    name: 'an SELinux type outside the container types',
    context: { seLinuxOptions: { type: 'spc_t' } },
    baseline: [at('seLinuxOptions')],
    restricted: [at('seLinuxOptions')],
  },
  {
    name: 'an SELinux container type with a level',
    context: { seLinuxOptions: { type: 'container_t', level: 's0:c1,c2' } },
    baseline: [],
    restricted: [],
  },
  {
    name: 'an SELinux user',
    context: { seLinuxOptions: { user: 'system_u' } },
    baseline: [at('seLinuxOptions')],
    restricted: [at('seLinuxOptions')],
  },
  {
    name: 'a hostPath volume',
    volume: { name: 'host', hostPath: { path: '/var/log' } },
    baseline: [at('hostPathVolumes', '-')],
    restricted: [at('restrictedVolumes', '-')],
  },
  {
    name: 'an NFS volume',
    volume: { name: 'nfs', nfs: { server: 'n', path: '/' } },
    baseline: [],
    restricted: [at('restrictedVolumes', '-')],
  },
  ...(
    [
      { name: 'c', configMap: { name: 'c' } },
      { name: 'd', csi: { driver: 'x' } },
      { name: 'w', downwardAPI: {} },
      { name: 'e', emptyDir: {} },
      { name: 'f', ephemeral: {} },
      { name: 'g', persistentVolumeClaim: { claimName: 'g' } },
      { name: 'h', projected: { sources: [] } },
      { name: 'i', secret: { secretName: 'i' } },
    ] satisfies V1Volume[]
  ).map((volume): Case => ({
    name: `a ${Object.keys(volume)[1]} volume`,
    volume,
    baseline: [],
    restricted: [],
  })),
];

t.test('each Pod Security control, at baseline and at restricted', (t) => {
  for (const c of cases) {
    const containers = [sidecar(c.context, c.container, c.unset)];
    const volumes = c.volume === undefined ? [] : [c.volume];
    t.strictSame(rules(containers, 'baseline', volumes), c.baseline, `${c.name} at baseline`);
    t.strictSame(rules(containers, 'restricted', volumes), c.restricted, `${c.name} at restricted`);
    t.strictSame(rules(containers, 'privileged', volumes), [], `${c.name} at privileged`);
  }
  t.end();
});

t.test('restricted finds nothing to add when the engine fills in its defaults', (t) => {
  const bare = withRestrictedDefaults({ name: 'bare', image: 'x:1' });
  t.strictSame(checkPodSecurity({ containers: [bare], volumes: [] }, 'restricted'), []);
  t.end();
});

t.test('a container with no securityContext breaks four restricted rules, no baseline one', (t) => {
  const bare: V1Container = { name: 'bare', image: 'x:1' };
  t.strictSame(rules([bare], 'baseline'), []);
  t.strictSame(rules([bare], 'restricted'), [
    at('capabilities', 'bare'),
    at('seccompProfile', 'bare'),
    at('allowPrivilegeEscalation', 'bare'),
    at('runAsNonRoot', 'bare'),
  ]);
  t.end();
});

t.test('each violation names its container and says which field breaks the rule', (t) => {
  const violations = checkPodSecurity(
    {
      containers: [
        sidecar({}, { name: 'ok' }),
        sidecar({ privileged: true }, { name: 'bad' }, ['allowPrivilegeEscalation']),
      ],
      volumes: [],
    },
    'restricted',
  );
  t.strictSame(violations, [
    {
      container: 'bad',
      rule: 'privileged',
      message: 'securityContext.privileged must not be true',
    },
    {
      container: 'bad',
      rule: 'allowPrivilegeEscalation',
      message: 'securityContext.allowPrivilegeEscalation must be false',
    },
  ]);
  t.end();
});

t.test('a volume violation names the volume, and no container', (t) => {
  const violations = checkPodSecurity(
    { containers: [], volumes: [{ name: 'host', hostPath: { path: '/' } }] },
    'baseline',
  );
  t.strictSame(violations, [
    {
      container: undefined,
      rule: 'hostPathVolumes',
      message: 'volume "host" must not be a hostPath volume',
    },
  ]);
  t.end();
});

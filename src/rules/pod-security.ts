/**
 * Pod Security Standards for injected containers and volumes, as the Kubernetes docs
 * define the `baseline` and `restricted` levels
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/). Pure: tandem
 * judges what it is about to add, before the apiserver's Pod Security admission judges
 * the whole pod, so a denial names the policy and not just the pod.
 *
 * Only container and volume controls are checked. The pod-level controls (host
 * namespaces, sysctls, the pod's own securityContext) belong to the pod's author, and
 * tandem never changes them. Because tandem cannot count on the pod-level
 * securityContext, `runAsNonRoot`, `runAsUser` and `seccompProfile` must be set on each
 * injected container itself, which the engine's restricted defaults do (SPEC §3 rule 5).
 */
import type { V1Container, V1SecurityContext, V1Volume } from '@kubernetes/client-node';

/** PodSecurityLevel is a Pod Security Standard level. */
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

/** PodSecurityViolation is one rule of a level that an injected container breaks. */
export interface PodSecurityViolation {
  readonly container: string | undefined;
  /** rule is the PSS control's name, e.g. `allowPrivilegeEscalation`, `capabilities`. */
  readonly rule: string;
  readonly message: string;
}

/** PodSecurityRule names a control; the names are Pod Security admission's check IDs. */
export type PodSecurityRule =
  | 'windowsHostProcess'
  | 'privileged'
  | 'capabilities'
  | 'hostPathVolumes'
  | 'hostPorts'
  | 'appArmorProfile'
  | 'seLinuxOptions'
  | 'procMount'
  | 'seccompProfile'
  | 'restrictedVolumes'
  | 'allowPrivilegeEscalation'
  | 'runAsNonRoot'
  | 'runAsUser';

// Baseline "Capabilities": what a container may add beyond the runtime's defaults.
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

// Baseline "SELinux": the container types the docs list (container_engine_t since 1.31).
const SELINUX_TYPES = new Set([
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

// Restricted "Volume Types": every other volume source is refused.
const RESTRICTED_VOLUME_SOURCES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

type Finding = readonly [PodSecurityRule, string];

/** A check looks at one container's securityContext and ports and returns what it breaks. */
type ContainerCheck = (container: V1Container, context: V1SecurityContext) => Finding[];

/** capabilityName strips the `CAP_` prefix the runtime accepts too, as PSA does. */
function capabilityName(capability: string): string {
  return capability.startsWith('CAP_') ? capability.slice(4) : capability;
}

function checkCapabilitiesBaseline(_c: V1Container, sc: V1SecurityContext): Finding[] {
  const extra = (sc.capabilities?.add ?? []).filter(
    (cap) => !BASELINE_CAPABILITIES.has(capabilityName(cap)),
  );
  return extra.length === 0
    ? []
    : [['capabilities', `securityContext.capabilities.add must not include ${extra.join(', ')}`]];
}

function checkHostPorts(c: V1Container): Finding[] {
  const ports = (c.ports ?? []).filter((port) => (port.hostPort ?? 0) !== 0);
  const list = ports.map((port) => port.hostPort).join(', ');
  return ports.length === 0 ? [] : [['hostPorts', `hostPort must be unset or 0, not ${list}`]];
}

function checkAppArmor(_c: V1Container, sc: V1SecurityContext): Finding[] {
  const type = sc.appArmorProfile?.type;
  return type === undefined || type === 'RuntimeDefault' || type === 'Localhost'
    ? []
    : [['appArmorProfile', `securityContext.appArmorProfile.type must not be ${type}`]];
}

function checkSeLinux(_c: V1Container, sc: V1SecurityContext): Finding[] {
  const options = sc.seLinuxOptions;
  if (options === undefined) return [];
  const findings: Finding[] = [];
  if (options.type !== undefined && options.type !== '' && !SELINUX_TYPES.has(options.type)) {
    findings.push([
      'seLinuxOptions',
      `securityContext.seLinuxOptions.type must not be ${options.type}`,
    ]);
  }
  // A custom user or role escapes the container policy as surely as a custom type.
  for (const field of ['user', 'role'] as const) {
    const value = options[field];
    if (value !== undefined && value !== '') {
      findings.push(['seLinuxOptions', `securityContext.seLinuxOptions.${field} must be unset`]);
    }
  }
  return findings;
}

function checkSeccompBaseline(_c: V1Container, sc: V1SecurityContext): Finding[] {
  return sc.seccompProfile?.type === 'Unconfined'
    ? [['seccompProfile', 'securityContext.seccompProfile.type must not be Unconfined']]
    : [];
}

function checkSeccompRestricted(_c: V1Container, sc: V1SecurityContext): Finding[] {
  const type = sc.seccompProfile?.type;
  return type === 'RuntimeDefault' || type === 'Localhost'
    ? []
    : [
        [
          'seccompProfile',
          'securityContext.seccompProfile.type must be RuntimeDefault or Localhost',
        ],
      ];
}

function checkCapabilitiesRestricted(_c: V1Container, sc: V1SecurityContext): Finding[] {
  const findings: Finding[] = [];
  if (!(sc.capabilities?.drop ?? []).some((cap) => capabilityName(cap) === 'ALL')) {
    findings.push(['capabilities', 'securityContext.capabilities.drop must include ALL']);
  }
  const extra = (sc.capabilities?.add ?? []).filter(
    (cap) => capabilityName(cap) !== 'NET_BIND_SERVICE',
  );
  if (extra.length > 0) {
    findings.push([
      'capabilities',
      `securityContext.capabilities.add may hold only NET_BIND_SERVICE, not ${extra.join(', ')}`,
    ]);
  }
  return findings;
}

// The docs' controls in the docs' order. At `restricted`, the stricter form of
// Capabilities and Seccomp replaces the baseline one (as Pod Security admission's
// restricted checks override their baseline twins), so a broken rule is reported once.
const baselineControls: readonly ContainerCheck[] = [
  (_c, sc) =>
    sc.windowsOptions?.hostProcess === true
      ? [['windowsHostProcess', 'securityContext.windowsOptions.hostProcess must not be true']]
      : [],
  (_c, sc) =>
    sc.privileged === true ? [['privileged', 'securityContext.privileged must not be true']] : [],
  checkHostPorts,
  checkAppArmor,
  checkSeLinux,
  (_c, sc) =>
    sc.procMount === undefined || sc.procMount === 'Default'
      ? []
      : [['procMount', `securityContext.procMount must be unset or Default, not ${sc.procMount}`]],
];

const CONTROLS: Readonly<Record<'baseline' | 'restricted', readonly ContainerCheck[]>> = {
  baseline: [...baselineControls, checkCapabilitiesBaseline, checkSeccompBaseline],
  restricted: [
    ...baselineControls,
    checkCapabilitiesRestricted,
    checkSeccompRestricted,
    (_c, sc) =>
      sc.allowPrivilegeEscalation === false
        ? []
        : [['allowPrivilegeEscalation', 'securityContext.allowPrivilegeEscalation must be false']],
    (_c, sc) =>
      sc.runAsNonRoot === true
        ? []
        : [['runAsNonRoot', 'securityContext.runAsNonRoot must be true']],
    (_c, sc) =>
      sc.runAsUser === 0 ? [['runAsUser', 'securityContext.runAsUser must not be 0']] : [],
  ],
};

/** volumeSources names the sources a volume sets (a valid one sets exactly one). */
function volumeSources(volume: V1Volume): string[] {
  return Object.entries(volume)
    .filter(([key, value]) => key !== 'name' && value !== undefined && value !== null)
    .map(([key]) => key);
}

function checkVolume(volume: V1Volume, level: PodSecurityLevel): Finding[] {
  const sources = volumeSources(volume);
  const findings: Finding[] = [];
  // At `restricted`, Volume Types covers hostPath too, so it is reported once, there.
  if (level === 'baseline' && sources.includes('hostPath')) {
    findings.push(['hostPathVolumes', `volume "${volume.name}" must not be a hostPath volume`]);
  }
  if (level === 'restricted') {
    for (const source of sources.filter((s) => !RESTRICTED_VOLUME_SOURCES.has(s))) {
      findings.push(['restrictedVolumes', `volume "${volume.name}" must not use ${source}`]);
    }
  }
  return findings;
}

/**
 * checkPodSecurity lists what the injected containers and volumes break at `level`, one
 * violation per rule broken, in the order the containers and the docs' controls come.
 * The `privileged` level allows everything; `restricted` includes every `baseline` rule.
 */
export function checkPodSecurity(
  injected: { readonly containers: readonly V1Container[]; readonly volumes: readonly V1Volume[] },
  level: PodSecurityLevel,
): PodSecurityViolation[] {
  if (level === 'privileged') return [];
  const checks = CONTROLS[level];
  const violations: PodSecurityViolation[] = [];
  for (const container of injected.containers) {
    const context = container.securityContext ?? {};
    for (const check of checks) {
      for (const [rule, message] of check(container, context)) {
        violations.push({ container: container.name, rule, message });
      }
    }
  }
  for (const volume of injected.volumes) {
    for (const [rule, message] of checkVolume(volume, level)) {
      violations.push({ container: undefined, rule, message });
    }
  }
  return violations;
}

/**
 * Sidecar mode, in one place (SPEC §3 rule 4): how tandem's long-running containers join
 * a pod. `native` makes them init containers with `restartPolicy: Always` (KEP-753, on by
 * default from Kubernetes 1.29), `classic` appends them to `containers`. The flag adds
 * `auto`, native where the cluster has it; a policy's `sidecarMode` overrides the flag;
 * and a cluster without native sidecars gets classic ones whatever was asked, since an
 * older apiserver drops `restartPolicy` and the pod then waits forever on a "sidecar"
 * that never exits.
 */
import { TandemError } from './errors.ts';

/** SIDECAR_MODES are the modes a policy may name, and the schema's enum. */
export const SIDECAR_MODES = ['native', 'classic'] as const;

/** SidecarMode says how long-running policy containers join a pod. */
export type SidecarMode = (typeof SIDECAR_MODES)[number];

/** SidecarModeSetting is `--sidecar-mode`: a mode, or `auto` for native where supported. */
export type SidecarModeSetting = SidecarMode | 'auto';

/** SERVE_SIDECAR_MODES are what `tandem serve` accepts; offline verbs take SIDECAR_MODES. */
export const SERVE_SIDECAR_MODES: readonly SidecarModeSetting[] = [...SIDECAR_MODES, 'auto'];

/** SidecarSettings is the decided mode, as the engine's context carries it. */
export interface SidecarSettings {
  /** sidecarMode is the global default; a policy's `sidecarMode` overrides it. */
  readonly sidecarMode: SidecarMode;
  /** nativeSidecarsSupported is false on clusters before 1.29: never emit native sidecars there. */
  readonly nativeSidecarsSupported: boolean;
}

/** NativeSupport is whether the cluster runs native sidecars, and what to call it in a warning. */
export interface NativeSupport {
  readonly supported: boolean;
  /** cluster names it for a warning: `version v1.28.3`, `an unknown version`. */
  readonly cluster: string;
}

/**
 * ASSUMED_SUPPORT is what a run without a cluster assumes (`tandem inject`, `serve
 * --no-cluster`): native sidecars, on by default in every Kubernetes still supported.
 */
export const ASSUMED_SUPPORT: NativeSupport = { supported: true, cluster: 'no cluster' };

/** SidecarDecision is the settings, and a warning for the start-up log. */
export interface SidecarDecision extends SidecarSettings {
  readonly warning: string | undefined;
}

/** parseSidecarModeSetting checks a `--sidecar-mode` value against those the verb accepts. */
export function parseSidecarModeSetting<T extends SidecarModeSetting>(
  value: string,
  accepted: readonly T[],
): T {
  const known = accepted.find((mode) => mode === value);
  if (known !== undefined) return known;
  const listed = `${accepted.slice(0, -1).join(', ')} or ${accepted.at(-1) ?? ''}`;
  throw new TandemError('TANDEM_ERR_CONFIG', `--sidecar-mode must be ${listed}, not "${value}"`);
}

/**
 * decideSidecars turns `--sidecar-mode` and what the cluster supports into the engine's
 * settings: the only place `auto` becomes a mode. Without native support, `native` is
 * downgraded to `classic`, with a warning, because the pod would otherwise hang.
 */
export function decideSidecars(
  setting: SidecarModeSetting,
  support: NativeSupport,
): SidecarDecision {
  if (support.supported) {
    return {
      sidecarMode: setting === 'auto' ? 'native' : setting,
      nativeSidecarsSupported: true,
      warning: undefined,
    };
  }
  return {
    sidecarMode: 'classic',
    nativeSidecarsSupported: false,
    warning:
      setting === 'classic'
        ? undefined
        : `the cluster runs ${support.cluster}; native sidecars need 1.29 or later, so ` +
          `${setting === 'native' ? '--sidecar-mode native is ignored and ' : ''}` +
          'sidecars are injected as classic containers',
  };
}

/** effectiveSidecarMode is how one policy's containers join the pod: its own mode, else the default. */
export function effectiveSidecarMode(
  policyMode: SidecarMode | undefined,
  settings: SidecarSettings,
): SidecarMode {
  if (!settings.nativeSidecarsSupported) return 'classic';
  return policyMode ?? settings.sidecarMode;
}

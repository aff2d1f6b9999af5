/**
 * The cluster's version, asked once at start, and what it means for sidecars: native
 * sidecars (init containers with `restartPolicy: Always`, KEP-753) are on by default
 * from Kubernetes 1.29. An older apiserver drops the field it does not know, and the
 * "sidecar" becomes an init container that never exits, so the pod never starts.
 */
import type { KubeConfig, VersionInfo } from '@kubernetes/client-node';
import { TandemError } from '../errors.ts';
import { isJsonObject } from '../json.ts';
import type { NativeSupport } from '../sidecar-mode.ts';
import { getJson } from './api-request.ts';

/** ClusterVersion is a parsed Kubernetes version; `text` is what the server said. */
export interface ClusterVersion {
  readonly major: number;
  readonly minor: number;
  readonly text: string;
}

// Native sidecars: alpha behind a gate in 1.28, on by default from 1.29 (beta), GA in 1.33.
const NATIVE_SIDECARS_SINCE = { major: 1, minor: 29 } as const;

/** leadingNumber reads "29" from "29", "29+" (GKE, EKS) or "29-gke.1"; else undefined. */
function leadingNumber(text: string | undefined): number | undefined {
  const match = /^\s*(\d+)/.exec(text ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * parseClusterVersion reads `/version`. Managed clusters decorate `minor` ("29+"), so
 * only its leading digits count, and `gitVersion` ("v1.29.3-eks-…") is the fallback when
 * `major` or `minor` are unreadable. When the apiserver emulates an older version
 * (`emulationMajor`/`emulationMinor`, compatibility versions since 1.31), its features
 * are that version's, so the emulated version is the one returned.
 */
export function parseClusterVersion(
  info: Partial<
    Pick<VersionInfo, 'major' | 'minor' | 'gitVersion' | 'emulationMajor' | 'emulationMinor'>
  >,
): ClusterVersion | undefined {
  const text = info.gitVersion ?? `${info.major ?? '?'}.${info.minor ?? '?'}`;
  const emulated = [leadingNumber(info.emulationMajor), leadingNumber(info.emulationMinor)];
  const own = [leadingNumber(info.major), leadingNumber(info.minor)];
  const git = /^v?(\d+)\.(\d+)/.exec(info.gitVersion ?? '');
  const fromGit = [leadingNumber(git?.[1]), leadingNumber(git?.[2])];
  for (const [major, minor] of [emulated, own, fromGit]) {
    if (major !== undefined && minor !== undefined) return { major, minor, text };
  }
  return undefined;
}

/** supportsNativeSidecars is true from Kubernetes 1.29, where the feature is on by default. */
export function supportsNativeSidecars(version: ClusterVersion): boolean {
  if (version.major !== NATIVE_SIDECARS_SINCE.major) {
    return version.major > NATIVE_SIDECARS_SINCE.major;
  }
  return version.minor >= NATIVE_SIDECARS_SINCE.minor;
}

/**
 * nativeSupport says whether a cluster of `version` runs native sidecars; one whose
 * version is unknown is taken not to (decideSidecars in src/sidecar-mode.ts decides).
 */
export function nativeSupport(version: ClusterVersion | undefined): NativeSupport {
  if (version === undefined) return { supported: false, cluster: 'an unknown version' };
  return { supported: supportsNativeSidecars(version), cluster: `version ${version.text}` };
}

/** VersionFields are the fields of `/version` that parseClusterVersion reads. */
type VersionFields = Parameters<typeof parseClusterVersion>[0];

/** versionFields keeps the string fields parseClusterVersion reads; anything else is dropped. */
function versionFields(body: unknown): VersionFields {
  const fields: Record<string, string> = {};
  if (!isJsonObject(body)) return fields;
  for (const key of ['major', 'minor', 'gitVersion', 'emulationMajor', 'emulationMinor']) {
    const value = body[key];
    if (typeof value === 'string') fields[key] = value;
  }
  return fields;
}

// An apiserver answers /version from memory; one that says nothing for this long is not there.
const VERSION_IDLE_MS = 30_000;

/**
 * fetchClusterVersion asks the apiserver's `/version` (readable by every authenticated
 * user through the system:public-info-viewer role, so no RBAC of tandem's own). It
 * throws TANDEM_ERR_CLUSTER when the request fails; an unparsable answer is `undefined`.
 */
export async function fetchClusterVersion(
  kubeConfig: KubeConfig,
): Promise<ClusterVersion | undefined> {
  let body: unknown;
  try {
    body = await getJson(kubeConfig, { path: '/version', idleMs: VERSION_IDLE_MS });
  } catch (error) {
    throw new TandemError('TANDEM_ERR_CLUSTER', 'cannot read the cluster version (/version)', {
      cause: error,
    });
  }
  return parseClusterVersion(versionFields(body));
}

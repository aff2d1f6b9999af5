/**
 * The engine's inputs and outputs. The engine is a pure function of
 * (pod, policies, context): the webhook and the offline CLI gather the context first,
 * then call it.
 */
import type { Operation } from 'fast-json-patch';
import type { SidecarSettings } from '../sidecar-mode.ts';
import type { PodSecurityLevel } from '../rules/pod-security.ts';
import type { Denial } from '../denial.ts';

/** InjectContext is everything about the admission the pod itself does not say. */
export interface InjectContext extends SidecarSettings {
  /** namespace of the request; a pod being created may leave metadata.namespace empty. */
  readonly namespace: string;
  /** namespaceLabels of that namespace, for `namespaceSelector`. */
  readonly namespaceLabels: Readonly<Record<string, string>>;
  /**
   * namespaceAnnotations are the namespace's `<policy>.tandem.dev/<param>` annotations,
   * param values for its pods where a param's `setBy` allows it; none when absent.
   */
  readonly namespaceAnnotations?: Readonly<Record<string, string>> | undefined;
  /** podSecurityLevel is the namespace's `pod-security.kubernetes.io/enforce` level, if known. */
  readonly podSecurityLevel?: PodSecurityLevel | undefined;
}

/**
 * SelectionReason says why a policy applies to a pod: requested in the annotation, picked
 * by its selector, or turned on for the pod's namespace by its injection label.
 */
export type SelectionReason = 'annotation' | 'selector' | 'namespace';

/** InjectedPolicy is one policy the engine injected. */
export interface InjectedPolicy {
  readonly name: string;
  readonly hash: string;
  readonly reason: SelectionReason;
}

/** InjectResult is the engine's answer for one pod. */
export type InjectResult =
  | {
      readonly outcome: 'patched';
      /**
       * patch is RFC 6902 against the pod as given. Its values may be shared with other
       * results (the render cache's frozen containers): serialise or copy, never edit.
       */
      readonly patch: Operation[];
      readonly injected: readonly InjectedPolicy[];
      readonly warnings: readonly string[];
    }
  | { readonly outcome: 'unchanged'; readonly warnings: readonly string[] }
  | ({ readonly outcome: 'denied'; readonly warnings: readonly string[] } & Denial);

/** PolicyDecision is, for `tandem explain`, what happened to one policy and why. */
export interface PolicyDecision {
  readonly policy: string;
  readonly decision: 'inject' | 'already-injected' | 'skip' | 'deny';
  readonly reason: string;
}

/** STUB: the engine is being written; the signature is final. */
import type { V1Pod } from '@kubernetes/client-node';
import type { PolicySet } from '../policy/compile.ts';
import type { InjectContext, InjectResult, PolicyDecision } from './types.ts';

/** injectPod decides which policies apply to `pod` and returns the patch that adds them. */
export function injectPod(
  _pod: V1Pod,
  _policies: PolicySet,
  _context: InjectContext,
): InjectResult {
  return { outcome: 'unchanged', warnings: [] };
}

/** explainPod says, for every loaded policy, whether it applies to `pod` and why. */
export function explainPod(
  _pod: V1Pod,
  _policies: PolicySet,
  _context: InjectContext,
): PolicyDecision[] {
  return [];
}

/**
 * resolveParams reads a policy's params from the pod's `<policy>.tandem.dev/<param>`
 * annotations. Values are data: they are checked against the param's pattern here and
 * later substituted into single strings, never parsed as structure.
 */
import { PARAM_ANNOTATION_SUFFIX, paramAnnotationKey } from '../annotations.ts';
import { INTEGER_TEXT, type LoadedPolicy } from '../policy/compile.ts';

/** ResolvedParams is the value of every param, or why the pod is denied. */
export type ResolvedParams =
  | { readonly ok: true; readonly values: ReadonlyMap<string, string>; readonly warnings: string[] }
  | { readonly ok: false; readonly reason: string };

/** resolveParams resolves every declared param of `policy` from `annotations`. */
export function resolveParams(
  policy: LoadedPolicy,
  annotations: Readonly<Record<string, string>>,
): ResolvedParams {
  const values = new Map<string, string>();
  const warnings: string[] = [];
  const defaulted: string[] = [];
  for (const param of policy.params.values()) {
    const key = paramAnnotationKey(policy.name, param.name);
    const given = annotations[key];
    if (given === undefined) {
      if (param.required) {
        return {
          ok: false,
          reason: `policy "${policy.name}" requires annotation ${key}, which the pod does not set`,
        };
      }
      values.set(param.name, param.defaultValue ?? '');
      if (param.defaultValue !== undefined) defaulted.push(`${param.name}=${param.defaultValue}`);
      continue;
    }
    if (param.pattern !== undefined && !param.pattern.test(given)) {
      return {
        ok: false,
        reason: `annotation ${key} has value ${JSON.stringify(given)}, which does not match the pattern ${param.patternSource ?? ''} of policy "${policy.name}"`,
      };
    }
    if (param.type === 'integer' && !INTEGER_TEXT.test(given)) {
      return {
        ok: false,
        reason: `annotation ${key} has value ${JSON.stringify(given)}, but policy "${policy.name}" wants an integer`,
      };
    }
    values.set(param.name, given);
  }
  // One line per policy, not one per param: `kubectl apply` prints every warning.
  if (defaulted.length > 0) {
    warnings.push(
      `policy "${policy.name}" uses defaults for params the pod does not set: ${defaulted.join(', ')}`,
    );
  }
  const prefix = `${policy.name}${PARAM_ANNOTATION_SUFFIX}`;
  for (const key of Object.keys(annotations)) {
    if (key.startsWith(prefix) && !policy.params.has(key.slice(prefix.length))) {
      warnings.push(`annotation ${key} is not a param of policy "${policy.name}" and is ignored`);
    }
  }
  return { ok: true, values, warnings };
}

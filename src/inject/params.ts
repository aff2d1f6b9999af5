/**
 * resolveParams reads a policy's params from the pod's `<policy>.tandem.dev/<param>`
 * annotations. Values are data: they are checked against the param's pattern here and
 * later substituted into single strings, never parsed as structure.
 */
import { PARAM_ANNOTATION_SUFFIX, paramAnnotationKey } from '../annotations.ts';
import { MAX_PARAM_VALUE_LENGTH } from '../limits.ts';
import { INTEGER_TEXT, type CompiledParam, type LoadedPolicy } from '../policy/compile.ts';
import { quoteValue } from './quote.ts';
import { fail, ok, type Result } from './result.ts';

// A warning names this many ignored annotations at most: kubectl prints every warning.
const IGNORED_NAMED = 5;

/**
 * paramKeysByPolicy files every `<policy>.tandem.dev/<param>` annotation key under its
 * policy's name, in one pass, so that no step loops over all annotations per policy.
 */
export function paramKeysByPolicy(
  annotations: Readonly<Record<string, string>>,
): Map<string, string[]> {
  const byPolicy = new Map<string, string[]>();
  for (const key of Object.keys(annotations)) {
    const at = key.indexOf(PARAM_ANNOTATION_SUFFIX);
    if (at <= 0) continue;
    const policy = key.slice(0, at);
    const keys = byPolicy.get(policy);
    if (keys === undefined) byPolicy.set(policy, [key]);
    else keys.push(key);
  }
  return byPolicy;
}

function ignoredWarning(policyName: string, ignored: readonly string[]): string {
  if (ignored.length === 1) {
    return `annotation ${quoteValue(ignored[0] ?? '')} is not a param of policy "${policyName}" and is ignored`;
  }
  const named = ignored.slice(0, IGNORED_NAMED).map(quoteValue).join(', ');
  const more = ignored.length > IGNORED_NAMED ? ` and ${ignored.length - IGNORED_NAMED} more` : '';
  return `annotations ${named}${more} are not params of policy "${policyName}" and are ignored`;
}

/** ResolvedParams is the value of every param, by name, or why the pod is denied. */
export type ResolvedParams = Result<ReadonlyMap<string, string>>;

/**
 * resolveParams resolves every declared param of `policy` from `annotations`;
 * `paramKeys` are the annotation keys under the policy's prefix (paramKeysByPolicy).
 */
export function resolveParams(
  policy: LoadedPolicy,
  annotations: Readonly<Record<string, string>>,
  paramKeys: readonly string[] = paramKeysByPolicy(annotations).get(policy.name) ?? [],
): ResolvedParams {
  const values = new Map<string, string>();
  const warnings: string[] = [];
  const defaulted: string[] = [];
  for (const param of policy.params.values()) {
    const key = paramAnnotationKey(policy.name, param.name);
    const given = annotations[key];
    if (given === undefined) {
      if (param.required) {
        return fail(
          `policy "${policy.name}" requires annotation ${key}, which the pod does not set`,
        );
      }
      values.set(param.name, param.defaultValue ?? '');
      if (param.defaultValue !== undefined) defaulted.push(`${param.name}=${param.defaultValue}`);
      continue;
    }
    // Length before pattern: the pattern's cost grows with the value, the cap's does not.
    const maxLength = param.maxLength ?? MAX_PARAM_VALUE_LENGTH;
    if (given.length > maxLength) {
      return fail(
        `annotation ${key} is ${given.length} characters long; policy "${policy.name}" accepts at most ${maxLength}`,
      );
    }
    if (param.pattern !== undefined && !param.pattern.test(given)) {
      return fail(
        `annotation ${key} has value ${quoteValue(given)}, which policy "${policy.name}" does not accept${whitespaceHint(param, given)}. ${wanted(param)}`,
      );
    }
    if (param.type === 'integer' && !INTEGER_TEXT.test(given)) {
      return fail(
        `annotation ${key} has value ${quoteValue(given)}, but policy "${policy.name}" wants an integer`,
      );
    }
    values.set(param.name, given);
  }
  // One line per policy, not one per param: `kubectl apply` prints every warning.
  if (defaulted.length > 0) {
    warnings.push(
      `policy "${policy.name}" uses defaults for params the pod does not set: ${defaulted.join(', ')}`,
    );
  }
  const prefixLength = policy.name.length + PARAM_ANNOTATION_SUFFIX.length;
  const ignored = paramKeys.filter((key) => !policy.params.has(key.slice(prefixLength)));
  if (ignored.length > 0) warnings.push(ignoredWarning(policy.name, ignored));
  return ok(values, warnings);
}

/**
 * wanted tells the pod's author what the param accepts, in the admin's words: its
 * description and example. Only a param with neither falls back to its pattern, cut,
 * since a 400-character regular expression helps nobody fix an annotation.
 */
function wanted(param: CompiledParam): string {
  const example = param.example === undefined ? '' : ` Example: ${param.example}`;
  if (param.description !== undefined) {
    const description = param.description.trim();
    const stop = /[.!?]$/.test(description) ? '' : '.';
    return `Wanted: ${description}${stop}${example}`;
  }
  if (param.example !== undefined) return `Wanted: a value such as ${param.example}`;
  return `Wanted: a value matching ${quoteValue(param.patternSource ?? '')}`;
}

const WHITESPACE = /\s/;

/**
 * whitespaceHint points at a space the pattern does not allow, the usual slip in a list
 * (`a:1, b:2`), and says whether the value would pass without its whitespace.
 */
function whitespaceHint(param: CompiledParam, given: string): string {
  const at = given.search(WHITESPACE);
  if (at < 0) return '';
  const what = given[at] === ' ' ? 'a space' : 'whitespace';
  const stripped = given.replace(/\s+/g, '');
  const fix =
    param.pattern?.test(stripped) === true ? '; without the whitespace it would be accepted' : '';
  return `: it has ${what} at character ${at + 1}${fix}`;
}

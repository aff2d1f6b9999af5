/**
 * paramValueProblem is the one rule a param value must pass, wherever it is written: a
 * pod's or a namespace's annotation at admission, a cluster value when the policies load.
 */
import { MAX_PARAM_VALUE_LENGTH } from '../limits.ts';
import { quoteValue } from '../inject/quote.ts';
import { INTEGER_TEXT, type CompiledParam, type LoadedPolicy } from './compile.ts';

/**
 * ParamValueProblem is why a value does not fit its param: `code` is the denial code an
 * admission gives it (README, "Error and denial codes"), `message` a sentence that starts
 * with where the value was written.
 */
export interface ParamValueProblem {
  readonly code: 'ParamTooLong' | 'ParamInvalid';
  readonly message: string;
}

/**
 * paramValueProblem says why `value` does not fit `param`, `where` being the annotation or
 * the values file's field, or undefined when it fits.
 */
export function paramValueProblem(
  policy: LoadedPolicy,
  param: CompiledParam,
  value: string,
  where: string,
): ParamValueProblem | undefined {
  // Length before pattern: the pattern's cost grows with the value, the cap's does not.
  const maxLength = param.maxLength ?? MAX_PARAM_VALUE_LENGTH;
  if (value.length > maxLength) {
    return {
      code: 'ParamTooLong',
      message: `${where} is ${value.length} characters long; policy "${policy.name}" accepts at most ${maxLength}`,
    };
  }
  if (param.pattern !== undefined && !param.pattern.test(value)) {
    return {
      code: 'ParamInvalid',
      message: `${where} has value ${quoteValue(value)}, which policy "${policy.name}" does not accept${whitespaceHint(param, value)}. ${wanted(param)}`,
    };
  }
  if (param.type === 'integer' && !INTEGER_TEXT.test(value)) {
    return {
      code: 'ParamInvalid',
      message: `${where} has value ${quoteValue(value)}, but policy "${policy.name}" wants an integer`,
    };
  }
  return undefined;
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

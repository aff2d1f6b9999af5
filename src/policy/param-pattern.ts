/**
 * Param patterns are matched with RE2 (re2js, a pure-JavaScript port), whose matching
 * time is linear in the value's length whatever the pattern. JavaScript's own RegExp
 * backtracks: an admin's `(a+)+` made a 26-character value cost seconds of a webhook that
 * every pod CREATE waits on (issue 9). A pattern RE2 cannot compile (lookarounds,
 * backreferences) is a load error, reported with file, line and field like any other.
 */
import { messageOf } from '../errors.ts';
import { RE2JS } from 're2js';

/** ParamPattern tells whether a whole value matches a param's pattern. */
export interface ParamPattern {
  /** test is true when the pattern matches the whole value, not a part of it. */
  test(value: string): boolean;
}

/** compileParamPattern compiles `source` as RE2 syntax, or says why it cannot. */
export function compileParamPattern(
  source: string,
): { ok: true; pattern: ParamPattern } | { ok: false; message: string } {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source);
  } catch (error) {
    const reason = messageOf(error);
    return {
      ok: false,
      message: `not a valid regular expression for RE2, which tandem matches in linear time (no lookarounds or backreferences; bound a length with maxLength): ${reason}`,
    };
  }
  // matches() is a whole-value match, as `^(?:source)$` was: anchoring by the engine
  // rather than by splicing text, so no `)|(` in a pattern can escape the anchors.
  return { ok: true, pattern: { test: (value) => compiled.matches(value) } };
}

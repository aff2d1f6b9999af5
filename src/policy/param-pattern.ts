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

type Compiled = { ok: true; pattern: ParamPattern } | { ok: false; message: string };

// Compiled patterns by source, for the life of the process. RE2 expands counted
// repetition, so a host-list pattern takes tens of ms to compile, and the same few
// patterns (a port, a DNS name) recur across params, policies and every reload. A
// compiled pattern holds no state between matches, so sharing one is safe; what is kept
// grows only with the distinct patterns admins write.
const compiledBySource = new Map<string, Compiled>();

/** compileParamPattern compiles `source` as RE2 syntax, or says why it cannot. */
export function compileParamPattern(source: string): Compiled {
  const known = compiledBySource.get(source);
  if (known !== undefined) return known;
  const compiled = compile(source);
  compiledBySource.set(source, compiled);
  return compiled;
}

function compile(source: string): Compiled {
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

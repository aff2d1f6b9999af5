/**
 * CEL for the webhook's matchConditions, written from policies. The API server evaluates
 * each expression on every pod CREATE before calling tandem, and an expression that
 * errs fails the request under failurePolicy Fail, so every access is guarded: a map is
 * read only after `has(...)` and `key in map` hold.
 */
import { INJECT_ANNOTATION, INJECT_LABEL } from '../annotations.ts';
import type { LabelSelector } from '../policy/schema.ts';

const LABELS = 'object.metadata.labels';
const ANNOTATIONS = 'object.metadata.annotations';

/**
 * ASCII_SPACE is RE2's `[[:space:]]`, tab to carriage return and the space: whitespace
 * JavaScript's trim() (the engine) also removes, so a pod the condition treats as opted
 * out is one the engine does too. (A POSIX class rather than escapes, which YAML and CEL
 * would each double.)
 */
const ASCII_SPACE = '[[:space:]]';

/** celString quotes `value` as a CEL string literal. */
export function celString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function celList(values: readonly string[]): string {
  return `[${values.map(celString).join(', ')}]`;
}

/** hasKey: the map at `map` exists and holds `key`. */
function hasKey(map: string, key: string): string {
  return `has(${map}) && ${celString(key)} in ${map}`;
}

function valueOf(map: string, key: string): string {
  return `${map}[${celString(key)}]`;
}

/** expressionCel is one matchExpression in CEL; undefined for an operator it does not know. */
function expressionCel(
  key: string,
  operator: string,
  values: readonly string[],
): string | undefined {
  const has = hasKey(LABELS, key);
  const inValues = `${has} && ${valueOf(LABELS, key)} in ${celList(values)}`;
  const byOperator = new Map([
    ['In', `(${inValues})`],
    ['NotIn', `!(${inValues})`],
    ['Exists', `(${has})`],
    ['DoesNotExist', `!(${has})`],
  ]);
  return byOperator.get(operator);
}

/**
 * selectorCel is `selector` as a CEL test of the pod's labels, with the API server's
 * label-selector semantics: NotIn and DoesNotExist hold for a pod without the key.
 */
export function selectorCel(selector: LabelSelector): string {
  const terms: string[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    terms.push(`(${hasKey(LABELS, key)} && ${valueOf(LABELS, key)} == ${celString(value)})`);
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const term = expressionCel(key, operator, values);
    if (term !== undefined) terms.push(term);
  }
  return terms.length === 0 ? 'true' : terms.join(' && ');
}

const ANNOTATION_OPT_OUT = `^${ASCII_SPACE}*([Ff][Aa][Ll][Ss][Ee]|[Nn][Oo][Nn][Ee])${ASCII_SPACE}*$`;

/**
 * requestsCel: the pod names at least one policy in `tandem.dev/inject` (a value that is
 * not an opt-out and holds something besides commas and spaces).
 */
export function requestsCel(): string {
  const value = valueOf(ANNOTATIONS, INJECT_ANNOTATION);
  return (
    `(${hasKey(ANNOTATIONS, INJECT_ANNOTATION)} && ` +
    `!${value}.matches(${celString(ANNOTATION_OPT_OUT)}) && ` +
    `${value}.matches(${celString('[^,[:space:]]')}))`
  );
}

/** annotationOptOutCel: the pod opts out of automatic policies with the annotation. */
export function annotationOptOutCel(): string {
  const value = valueOf(ANNOTATIONS, INJECT_ANNOTATION);
  return `(${hasKey(ANNOTATIONS, INJECT_ANNOTATION)} && ${value}.matches(${celString(ANNOTATION_OPT_OUT)}))`;
}

/** labelOptOutCel: the pod opts out with the label (the objectSelector says it too). */
export function labelOptOutCel(optOutValues: readonly string[]): string {
  return `(${hasKey(LABELS, INJECT_LABEL)} && ${valueOf(LABELS, INJECT_LABEL)} in ${celList(optOutValues)})`;
}

/** hostNetworkCel: the pod shares the node's network. */
export function hostNetworkCel(): string {
  return '(has(object.spec.hostNetwork) && object.spec.hostNetwork)';
}

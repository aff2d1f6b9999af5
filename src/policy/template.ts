/**
 * Templates in policy values (SPEC §2). Substitution works on the parsed structure, one
 * string at a time: a rendered value is always the string it replaces (or, for a whole
 * `{{ params.X }}` of an integer param, that integer), so a pod's annotations can never
 * add keys, list items or YAML. Templates are compiled once, when policies load; a syntax
 * error or an unknown reference is a load error, never an admission-time surprise.
 */
import type { JsonValue } from '../json.ts';
import {
  conditionalKeyOf,
  isConditionalItem,
  readConditionalItem,
  type ConditionalProblem,
} from './conditional.ts';

/** TemplateRef is one `{{ ... }}` expression, parsed. */
export type TemplateRef =
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'podNamespace' }
  | { readonly kind: 'podName' }
  | { readonly kind: 'podLabel'; readonly key: string }
  | { readonly kind: 'podAnnotation'; readonly key: string }
  /** containerName is the target app container's name, known only in appContainer. */
  | { readonly kind: 'containerName' };

type TemplatePart = string | TemplateRef;

/** TemplateNode is a compiled JSON value whose strings may hold references. */
export type TemplateNode =
  | { readonly type: 'scalar'; readonly value: string | number | boolean | null }
  | {
      readonly type: 'string';
      readonly parts: readonly TemplatePart[];
      /** integerParam is set when the whole string is `{{ params.X }}` of an integer param. */
      readonly integerParam: string | undefined;
    }
  | { readonly type: 'array'; readonly items: readonly TemplateItem[] }
  | { readonly type: 'object'; readonly entries: readonly (readonly [string, TemplateNode])[] };

/** WhenNode is a conditional list item: `then` spliced in when the param equals `equals`. */
export interface WhenNode {
  readonly type: 'when';
  readonly param: string;
  readonly equals: string;
  readonly then: readonly TemplateItem[];
  readonly otherwise: readonly TemplateItem[];
}

/** TemplateItem is one item of a compiled list: a value, or a conditional. */
export type TemplateItem = TemplateNode | WhenNode;

/** TemplateCondition is one `$if` of a template, for the loader to check against the params. */
export interface TemplateCondition {
  readonly param: string;
  readonly equals: string;
  readonly fieldPath: string;
}

/** TemplateScope is what references resolve against at admission. */
export interface TemplateScope {
  readonly params: ReadonlyMap<string, string>;
  readonly namespace: string;
  readonly podName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** containerName is the app container appContainer is rendered for; '' elsewhere. */
  readonly containerName?: string;
}

/** TemplateProblem is a compile failure at a field path. */
export interface TemplateProblem {
  readonly fieldPath: string;
  readonly message: string;
}

/** CompiledTemplate is a compiled tree plus the params it references. */
export interface CompiledTemplate {
  readonly node: TemplateNode;
  readonly paramRefs: ReadonlySet<string>;
  /** conditions are the template's `$if`s, each naming a param and a literal. */
  readonly conditions: readonly TemplateCondition[];
  /** containerRefs are the field paths of strings that use `{{ container.name }}`. */
  readonly containerRefs: readonly string[];
}

/**
 * INTEGER_FIELDS are the Kubernetes fields, by key, that take an integer (or an
 * IntOrString). Only under one of these does a whole `{{ params.X }}` of an integer param
 * render as a number: an env value, an arg or an annotation stays a string, as the API
 * server requires.
 */
export const INTEGER_FIELDS: ReadonlySet<string> = new Set([
  'containerPort',
  'hostPort',
  'port',
  'targetPort',
  'initialDelaySeconds',
  'periodSeconds',
  'timeoutSeconds',
  'successThreshold',
  'failureThreshold',
  'terminationGracePeriodSeconds',
  'runAsUser',
  'runAsGroup',
  'fsGroup',
  'defaultMode',
  'mode',
]);

const EXPRESSION = /\{\{(.*?)\}\}/gs;
const PARAM_REF = /^params\.([A-Za-z][A-Za-z0-9_-]*)$/;
const MAP_REF = /^pod\.(labels|annotations)\[(?:'([^']*)'|"([^"]*)")\]$/;

/** FIXED_REFS are the expressions that take no name or key. */
const FIXED_REFS: ReadonlyMap<string, TemplateRef> = new Map<string, TemplateRef>([
  ['pod.namespace', { kind: 'podNamespace' }],
  ['pod.name', { kind: 'podName' }],
  ['container.name', { kind: 'containerName' }],
]);

/** parseExpression reads the inside of one `{{ }}`; undefined when it is not a known form. */
export function parseExpression(source: string): TemplateRef | undefined {
  const text = source.trim();
  const fixed = FIXED_REFS.get(text);
  if (fixed !== undefined) return fixed;
  const param = PARAM_REF.exec(text);
  if (param?.[1] !== undefined) return { kind: 'param', name: param[1] };
  const map = MAP_REF.exec(text);
  if (map?.[1] !== undefined) {
    const key = map[2] ?? map[3] ?? '';
    return map[1] === 'labels' ? { kind: 'podLabel', key } : { kind: 'podAnnotation', key };
  }
  return undefined;
}

interface CompileState {
  readonly integerParams: ReadonlySet<string>;
  readonly problems: TemplateProblem[];
  readonly paramRefs: Set<string>;
  readonly conditions: TemplateCondition[];
  readonly containerRefs: string[];
}

/** compileRef reads one `{{ }}` into a part, recording what it references, or a problem. */
function compileRef(
  inner: string,
  fieldPath: string,
  state: CompileState,
): TemplateRef | undefined {
  const ref = parseExpression(inner);
  if (ref === undefined) {
    state.problems.push({
      fieldPath,
      message: `unknown template expression "{{${inner}}}": expected params.NAME, pod.namespace, pod.name, pod.labels['key'], pod.annotations['key'] or container.name`,
    });
    return undefined;
  }
  if (ref.kind === 'param') state.paramRefs.add(ref.name);
  if (ref.kind === 'containerName') state.containerRefs.push(fieldPath);
  return ref;
}

/**
 * integerParamOf names the integer param a string is made of, alone, in a field the API
 * wants a number in: that string renders as a number.
 */
function integerParamOf(
  parts: readonly TemplatePart[],
  key: string,
  state: CompileState,
): string | undefined {
  const only = parts.length === 1 ? parts[0] : undefined;
  if (typeof only !== 'object' || only.kind !== 'param') return undefined;
  return state.integerParams.has(only.name) && INTEGER_FIELDS.has(key) ? only.name : undefined;
}

function compileString(
  text: string,
  fieldPath: string,
  key: string,
  state: CompileState,
): TemplateNode {
  if (!text.includes('{{')) return { type: 'scalar', value: text };
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of text.matchAll(EXPRESSION)) {
    const before = text.slice(last, match.index);
    if (before.includes('{{')) break;
    if (before !== '') parts.push(before);
    const ref = compileRef(match[1] ?? '', fieldPath, state);
    if (ref !== undefined) parts.push(ref);
    last = match.index + match[0].length;
  }
  const rest = text.slice(last);
  if (rest.includes('{{') || rest.includes('}}')) {
    state.problems.push({
      fieldPath,
      message: 'unterminated template expression: "{{" without "}}"',
    });
  } else if (rest !== '') {
    parts.push(rest);
  }
  return { type: 'string', parts, integerParam: integerParamOf(parts, key, state) };
}

function compileNode(
  value: JsonValue,
  fieldPath: string,
  key: string,
  state: CompileState,
): TemplateNode {
  if (typeof value === 'string') return compileString(value, fieldPath, key, state);
  if (Array.isArray(value))
    return { type: 'array', items: compileItems(value, fieldPath, key, state) };
  if (value !== null && typeof value === 'object') {
    const misplaced = conditionalKeyOf(value);
    if (misplaced !== undefined) {
      state.problems.push({
        fieldPath: `${fieldPath}.${misplaced}`,
        message: `${misplaced} belongs to a conditional, which may only stand as a list item`,
      });
    }
    return {
      type: 'object',
      entries: Object.entries(value).map(
        ([childKey, child]) =>
          [childKey, compileNode(child, `${fieldPath}.${childKey}`, childKey, state)] as const,
      ),
    };
  }
  return { type: 'scalar', value };
}

/**
 * compileItems compiles a list's items; a conditional item (`$if`) becomes a `when` node
 * whose branches are compiled like any other items, under the same field key, so an
 * integer param in a branch of `ports` still renders as a number.
 */
function compileItems(
  items: readonly JsonValue[],
  fieldPath: string,
  key: string,
  state: CompileState,
): TemplateItem[] {
  return items.map((item, i): TemplateItem => {
    const at = `${fieldPath}[${i}]`;
    if (!isConditionalItem(item)) return compileNode(item, at, key, state);
    const problems: ConditionalProblem[] = [];
    const conditional = readConditionalItem(item, at, problems);
    state.problems.push(...problems);
    if (conditional === undefined) return { type: 'array', items: [] };
    state.conditions.push({ param: conditional.param, equals: conditional.equals, fieldPath: at });
    return {
      type: 'when',
      param: conditional.param,
      equals: conditional.equals,
      then: compileItems(conditional.then, `${at}.$then`, key, state),
      otherwise: compileItems(conditional.otherwise, `${at}.$else`, key, state),
    };
  });
}

/**
 * compileTemplate compiles every string of `value`. Problems are collected with their
 * field path under `fieldPath`, not thrown, so a loader can report them all at once.
 */
export function compileTemplate(
  value: JsonValue,
  fieldPath: string,
  integerParams: ReadonlySet<string>,
): CompiledTemplate & { readonly problems: readonly TemplateProblem[] } {
  const state: CompileState = {
    integerParams,
    problems: [],
    paramRefs: new Set(),
    conditions: [],
    containerRefs: [],
  };
  const node = compileNode(value, fieldPath, '', state);
  return {
    node,
    paramRefs: state.paramRefs,
    conditions: state.conditions,
    containerRefs: state.containerRefs,
    problems: state.problems,
  };
}

/**
 * ownValue reads a key the pod itself set. A plain lookup would also find what every
 * object inherits: `pod.labels['constructor']` on a pod without that label would render
 * the source text of Object instead of the empty string.
 */
function ownValue(map: Readonly<Record<string, string>>, key: string): string {
  return Object.hasOwn(map, key) ? (map[key] ?? '') : '';
}

function resolve(ref: TemplateRef, scope: TemplateScope): string {
  switch (ref.kind) {
    case 'param':
      return scope.params.get(ref.name) ?? '';
    case 'podNamespace':
      return scope.namespace;
    case 'podName':
      return scope.podName;
    case 'podLabel':
      return ownValue(scope.labels, ref.key);
    case 'podAnnotation':
      return ownValue(scope.annotations, ref.key);
    case 'containerName':
      return scope.containerName ?? '';
  }
}

/** renderTemplate builds a fresh JSON value from a compiled tree; it never shares objects. */
export function renderTemplate(node: TemplateNode, scope: TemplateScope): JsonValue {
  switch (node.type) {
    case 'scalar':
      return node.value;
    case 'string': {
      if (node.integerParam !== undefined) {
        return Number(scope.params.get(node.integerParam) ?? '0');
      }
      let text = '';
      for (const part of node.parts) text += typeof part === 'string' ? part : resolve(part, scope);
      return text;
    }
    case 'array':
      return renderItems(node.items, scope);
    case 'object': {
      const result: Record<string, JsonValue> = {};
      for (const [key, child] of node.entries) result[key] = renderTemplate(child, scope);
      return result;
    }
  }
}

/** renderItems renders a list's items, splicing in the chosen branch of each conditional. */
function renderItems(items: readonly TemplateItem[], scope: TemplateScope): JsonValue[] {
  const result: JsonValue[] = [];
  for (const item of items) {
    if (item.type !== 'when') {
      result.push(renderTemplate(item, scope));
      continue;
    }
    const chosen = scope.params.get(item.param) === item.equals ? item.then : item.otherwise;
    result.push(...renderItems(chosen, scope));
  }
  return result;
}

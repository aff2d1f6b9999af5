/**
 * Conditional list items in policy templates. A list item of the form
 *
 *     - $if: {param: output, equals: stdout}
 *       $then: [ ...items ]      # either may be left out, not both
 *       $else: [ ...items ]
 *
 * stands for the items of `$then` when the param's value is exactly the literal, else for
 * those of `$else` (or nothing). It is data, read from the admin's policy file once at
 * load: the only question it asks of a pod is which of two admin-written lists to splice
 * in, so a pod's value chooses between shapes the admin wrote and can never add one.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';

/** IF_KEY, THEN_KEY and ELSE_KEY are the keys of a conditional list item. */
export const IF_KEY = '$if';
export const THEN_KEY = '$then';
export const ELSE_KEY = '$else';

const CONDITIONAL_KEYS: ReadonlySet<string> = new Set([IF_KEY, THEN_KEY, ELSE_KEY]);

/** ConditionalItem is one conditional list item, read but with its branches not compiled. */
export interface ConditionalItem {
  readonly param: string;
  readonly equals: string;
  readonly then: readonly JsonValue[];
  readonly otherwise: readonly JsonValue[];
}

/** ConditionalProblem is a malformed conditional at a field path. */
export interface ConditionalProblem {
  readonly fieldPath: string;
  readonly message: string;
}

/** isConditionalItem says whether a list item is written as a conditional (has `$if`). */
export function isConditionalItem(value: JsonValue): value is JsonObject {
  return isJsonObject(value) && IF_KEY in value;
}

/** conditionalKeyOf names the conditional key a map uses, if any: only list items may. */
export function conditionalKeyOf(value: JsonObject): string | undefined {
  return Object.keys(value).find((key) => CONDITIONAL_KEYS.has(key));
}

function readCondition(
  condition: JsonValue | undefined,
  fieldPath: string,
  problems: ConditionalProblem[],
): { param: string; equals: string } | undefined {
  const at = `${fieldPath}.${IF_KEY}`;
  if (!isJsonObject(condition)) {
    problems.push({ fieldPath: at, message: '$if must be a map {param: NAME, equals: "value"}' });
    return undefined;
  }
  const extra = Object.keys(condition).find((key) => key !== 'param' && key !== 'equals');
  if (extra !== undefined) {
    problems.push({
      fieldPath: `${at}.${extra}`,
      message: `unknown field "${extra}" in $if: only param and equals`,
    });
  }
  const { param, equals } = condition;
  if (typeof param !== 'string' || param === '') {
    problems.push({ fieldPath: `${at}.param`, message: '$if needs param: the name of a param' });
  }
  if (typeof equals !== 'string') {
    problems.push({
      fieldPath: `${at}.equals`,
      message: '$if needs equals: a quoted string the param is compared with',
    });
  }
  if (typeof param !== 'string' || param === '' || typeof equals !== 'string') return undefined;
  return { param, equals };
}

function readBranch(
  item: JsonObject,
  key: string,
  fieldPath: string,
  problems: ConditionalProblem[],
): readonly JsonValue[] {
  const branch = item[key];
  if (branch === undefined) return [];
  if (!Array.isArray(branch)) {
    problems.push({
      fieldPath: `${fieldPath}.${key}`,
      message: `${key} must be a list of items to add in place of the conditional`,
    });
    return [];
  }
  return branch;
}

/**
 * readConditionalItem reads a list item that has `$if`; problems name the field path of
 * what is wrong. It returns undefined when the item cannot be used.
 */
export function readConditionalItem(
  item: JsonObject,
  fieldPath: string,
  problems: ConditionalProblem[],
): ConditionalItem | undefined {
  const before = problems.length;
  for (const key of Object.keys(item)) {
    if (!CONDITIONAL_KEYS.has(key)) {
      problems.push({
        fieldPath: `${fieldPath}.${key}`,
        message: `unknown field "${key}" in a conditional: only $if, $then and $else`,
      });
    }
  }
  const condition = readCondition(item[IF_KEY], fieldPath, problems);
  const then = readBranch(item, THEN_KEY, fieldPath, problems);
  const otherwise = readBranch(item, ELSE_KEY, fieldPath, problems);
  if (item[THEN_KEY] === undefined && item[ELSE_KEY] === undefined) {
    problems.push({ fieldPath, message: 'a conditional needs $then or $else: the items to add' });
  }
  if (condition === undefined || problems.length > before) return undefined;
  return { ...condition, then, otherwise };
}

/**
 * everyBranchItem lists a raw list's items with every conditional opened, both branches,
 * each with its field path (`args[3].$then[1]`): checks on what a policy could ever
 * render (no annotation in a command line, no templated mount path) see every item.
 */
export function everyBranchItem(
  list: readonly JsonValue[],
  fieldPath: string,
): { readonly item: JsonValue; readonly fieldPath: string }[] {
  const found: { item: JsonValue; fieldPath: string }[] = [];
  list.forEach((item, i) => {
    const at = `${fieldPath}[${i}]`;
    if (!isConditionalItem(item)) {
      found.push({ item, fieldPath: at });
      return;
    }
    for (const key of [THEN_KEY, ELSE_KEY]) {
      const branch = item[key];
      if (Array.isArray(branch)) found.push(...everyBranchItem(branch, `${at}.${key}`));
    }
  });
  return found;
}

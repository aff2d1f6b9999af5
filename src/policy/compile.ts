/**
 * compilePolicy turns a schema-valid SidecarPolicy into the form the engine uses:
 * params with their patterns compiled, templates compiled, names and a content hash
 * worked out once, so that admission does no parsing at all.
 */
import { createHash } from 'node:crypto';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { LabelSelector, ParamDeclaration, PolicySpec, SidecarPolicy } from './schema.ts';
import { everyBranchItem } from './conditional.ts';
import { compileParamPattern, type ParamPattern } from './param-pattern.ts';
import {
  compileTemplate,
  type TemplateCondition,
  type TemplateNode,
  type TemplateProblem,
} from './template.ts';

/** CompiledParam is one declared param, ready to check a pod's value against. */
export interface CompiledParam {
  readonly name: string;
  readonly required: boolean;
  readonly defaultValue: string | undefined;
  /** pattern must match the whole value, in time linear in its length (param-pattern.ts). */
  readonly pattern: ParamPattern | undefined;
  readonly patternSource: string | undefined;
  /** maxLength is the param's own cap on a value's length, under MAX_PARAM_VALUE_LENGTH. */
  readonly maxLength: number | undefined;
  readonly type: 'string' | 'integer';
  /** description and example tell a pod's author what the param wants. */
  readonly description: string | undefined;
  readonly example: string | undefined;
  /** setBy is the most specific level whose value counts (params.ts, PARAM_LEVELS). */
  readonly setBy: ParamLevel;
  /** requiredWhen makes the param required while another param equals a literal. */
  readonly requiredWhen: { readonly param: string; readonly equals: string } | undefined;
}

/** ParamLevel is where a param's value may be written, from the widest to the narrowest. */
export type ParamLevel = 'cluster' | 'namespace' | 'pod';

/** PolicySource is where a policy was written. */
export interface PolicySource {
  readonly file: string;
  readonly line: number;
}

/** LoadedPolicy is a policy compiled and ready for the engine. */
export interface LoadedPolicy {
  readonly name: string;
  readonly spec: PolicySpec;
  /** hash identifies the policy's content; it goes into `tandem.dev/status`. */
  readonly hash: string;
  readonly source: PolicySource;
  readonly params: ReadonlyMap<string, CompiledParam>;
  /** template renders to {containers, initContainers, volumes, appContainer, podAnnotations}. */
  readonly template: TemplateNode;
  /**
   * appContainerTemplate is set when appContainer uses `{{ container.name }}`: it is then
   * rendered once for each target container (the rest of the template once per pod).
   */
  readonly appContainerTemplate: TemplateNode | undefined;
}

/**
 * AutomaticIndex narrows the automatic policies down to those a pod's labels could match.
 * A policy whose selector has matchLabels can only match a pod that carries its first
 * pair, so it is filed under that pair; the webhook then looks at the pod's few labels
 * instead of trying every automatic policy on every pod (issue 5: with 500 automatic
 * policies loaded, trying each cost about 25 µs a review).
 */
export interface AutomaticIndex {
  /** byLabel maps a label key, then its value, to the policies filed under that pair. */
  readonly byLabel: ReadonlyMap<string, ReadonlyMap<string, readonly LoadedPolicy[]>>;
  /** unindexed are the automatic policies without matchLabels, tried on every pod. */
  readonly unindexed: readonly LoadedPolicy[];
  /** rank is each automatic policy's place in name order. */
  readonly rank: ReadonlyMap<LoadedPolicy, number>;
}

/** ClusterValue is one param value the admin set for the whole cluster (policy/values.ts). */
export interface ClusterValue {
  readonly value: string;
  /** source is where it is written, `file:line`, for `tandem explain`. */
  readonly source: string;
}

/** ClusterValues maps a policy's name, then a param's, to the admin's value. */
export type ClusterValues = ReadonlyMap<string, ReadonlyMap<string, ClusterValue>>;

/** PolicySet is every loaded policy, by name, and the automatic ones in name order. */
export interface PolicySet {
  readonly byName: ReadonlyMap<string, LoadedPolicy>;
  /** clusterValues are the params the admin set once for every pod (PolicyValues documents). */
  readonly clusterValues: ClusterValues;
  /**
   * automatic holds the policies with a `selector` or `namespaceInjection`, sorted by
   * name (SPEC §3 rule 1).
   */
  readonly automatic: readonly LoadedPolicy[];
  readonly automaticIndex: AutomaticIndex;
}

/** CompileResult is a compiled policy, or the problems that kept it from compiling. */
export type CompileResult =
  | { readonly ok: true; readonly policy: LoadedPolicy }
  | { readonly ok: false; readonly problems: readonly TemplateProblem[] };

/** INTEGER_TEXT is what an integer param's value must look like. */
export const INTEGER_TEXT = /^-?[0-9]+$/;
// A Kubernetes qualified name with optional DNS-subdomain prefix, as annotation keys must be.
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** declarationProblems checks what a param's declaration says of itself. */
function declarationProblems(fieldPath: string, declaration: ParamDeclaration): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const type = declaration.type ?? 'string';
  const hasDefault = declaration.default !== undefined;
  const required = declaration.required === true || declaration.requiredWhen !== undefined;
  if (type === 'string' && declaration.pattern === undefined) {
    // The value comes from the pod's author: the admin says what it may look like.
    problems.push({
      fieldPath,
      message: "a string param needs a pattern: its value comes from the pod's author",
    });
  }
  if (type === 'integer' && !required && !hasDefault) {
    problems.push({ fieldPath, message: 'an optional integer param needs a default' });
  }
  if (declaration.required === true && hasDefault) {
    problems.push({ fieldPath, message: 'a required param cannot have a default' });
  }
  return [...problems, ...requiredWhenAlone(fieldPath, declaration)];
}

/** requiredWhenAlone: requiredWhen stands without `required` and without a default. */
function requiredWhenAlone(fieldPath: string, declaration: ParamDeclaration): TemplateProblem[] {
  if (declaration.requiredWhen === undefined) return [];
  const problems: TemplateProblem[] = [];
  if (declaration.required === true) {
    problems.push({
      fieldPath: `${fieldPath}.requiredWhen`,
      message: 'a param is either required or requiredWhen, not both',
    });
  }
  if (declaration.default !== undefined) {
    problems.push({
      fieldPath: `${fieldPath}.requiredWhen`,
      message: 'a param with requiredWhen cannot have a default: it would never be missing',
    });
  }
  return problems;
}

/** compilePattern compiles a param's pattern, or records why it cannot. */
function compilePattern(
  fieldPath: string,
  source: string | undefined,
  problems: TemplateProblem[],
): ParamPattern | undefined {
  if (source === undefined) return undefined;
  const compiled = compileParamPattern(source);
  if (compiled.ok) return compiled.pattern;
  problems.push({ fieldPath: `${fieldPath}.pattern`, message: compiled.message });
  return undefined;
}

function compileParams(spec: PolicySpec, problems: TemplateProblem[]): Map<string, CompiledParam> {
  const params = new Map<string, CompiledParam>();
  for (const [name, declaration] of Object.entries(spec.params ?? {})) {
    const fieldPath = `spec.params.${name}`;
    const pattern = compilePattern(fieldPath, declaration.pattern, problems);
    problems.push(
      ...declarationProblems(fieldPath, declaration),
      ...sampleProblems(fieldPath, declaration, pattern),
    );
    params.set(name, {
      name,
      required: declaration.required === true,
      defaultValue: declaration.default,
      pattern,
      patternSource: declaration.pattern,
      maxLength: declaration.maxLength,
      type: declaration.type ?? 'string',
      description: declaration.description,
      example: declaration.example,
      setBy: declaration.setBy ?? 'pod',
      requiredWhen: declaration.requiredWhen,
    });
  }
  problems.push(...requiredWhenProblems(params));
  return params;
}

/**
 * requiredWhenProblems checks each `requiredWhen` against the params as a `$if` is
 * checked: it names another declared param, with a value that param accepts.
 */
function requiredWhenProblems(params: ReadonlyMap<string, CompiledParam>): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const param of params.values()) {
    if (param.requiredWhen === undefined) continue;
    const { param: name, equals } = param.requiredWhen;
    const fieldPath = `spec.params.${param.name}.requiredWhen`;
    const other = params.get(name);
    if (other === undefined || other === param) {
      problems.push({
        fieldPath: `${fieldPath}.param`,
        message: `requiredWhen names params.${name}, which is not another declared param`,
      });
    } else if (literalRefused(other, equals)) {
      problems.push({
        fieldPath: `${fieldPath}.equals`,
        message: `requiredWhen compares params.${name} with "${equals}", a value the param does not accept, so the param would never be required`,
      });
    }
  }
  return problems;
}

/** literalRefused says whether a param refuses a literal a policy compares it with. */
function literalRefused(param: CompiledParam, equals: string): boolean {
  return (
    (param.pattern !== undefined && !param.pattern.test(equals)) ||
    (param.maxLength !== undefined && equals.length > param.maxLength) ||
    (param.type === 'integer' && !INTEGER_TEXT.test(equals))
  );
}

/**
 * sampleProblems checks the values a policy writes for a param, its default and its
 * example, against the param's own rules: a denial shows the example as a value that
 * works, so it must be one.
 */
function sampleProblems(
  fieldPath: string,
  declaration: ParamDeclaration,
  pattern: ParamPattern | undefined,
): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const [key, value] of [
    ['default', declaration.default],
    ['example', declaration.example],
  ] as const) {
    if (value === undefined) continue;
    if (pattern !== undefined && !pattern.test(value)) {
      problems.push({
        fieldPath: `${fieldPath}.${key}`,
        message: `${key} "${value}" does not match the param's pattern`,
      });
    }
    if (declaration.maxLength !== undefined && value.length > declaration.maxLength) {
      problems.push({
        fieldPath: `${fieldPath}.${key}`,
        message: `${key} "${value}" is longer than the param's maxLength ${declaration.maxLength}`,
      });
    }
    if (declaration.type === 'integer' && !INTEGER_TEXT.test(value)) {
      problems.push({
        fieldPath: `${fieldPath}.${key}`,
        message: `${key} "${value}" is not an integer`,
      });
    }
  }
  return problems;
}

function checkSelector(
  selector: LabelSelector | undefined,
  fieldPath: string,
  problems: TemplateProblem[],
): void {
  for (const [i, requirement] of (selector?.matchExpressions ?? []).entries()) {
    const values = requirement.values ?? [];
    const path = `${fieldPath}.matchExpressions[${i}].values`;
    const wantsValues = requirement.operator === 'In' || requirement.operator === 'NotIn';
    if (wantsValues && values.length === 0) {
      problems.push({ fieldPath: path, message: `operator ${requirement.operator} needs values` });
    }
    if (!wantsValues && values.length > 0) {
      problems.push({
        fieldPath: path,
        message: `operator ${requirement.operator} takes no values`,
      });
    }
  }
}

function injectableContent(spec: PolicySpec): JsonObject {
  const content: JsonObject = {};
  const keys = ['containers', 'initContainers', 'volumes', 'appContainer', 'podAnnotations'];
  for (const key of keys) {
    const value = (spec as Record<string, unknown>)[key];
    if (value !== undefined) content[key] = value as JsonValue;
  }
  return content;
}

/** hashPolicy is a short, stable digest of what a policy injects and how it selects. */
export function hashPolicy(spec: PolicySpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

/**
 * compilePolicy checks what a schema cannot (regular expressions, defaults against
 * patterns, selector operators, template references against declared params) and
 * compiles the policy. Problems carry field paths from the document root.
 */
export function compilePolicy(document: SidecarPolicy, source: PolicySource): CompileResult {
  const { spec } = document;
  const problems: TemplateProblem[] = [];
  const params = compileParams(spec, problems);
  checkSelector(spec.selector, 'spec.selector', problems);
  checkSelector(spec.namespaceSelector, 'spec.namespaceSelector', problems);
  problems.push(...annotationKeyProblems(spec));
  const integerParams = new Set(
    [...params.values()].filter((p) => p.type === 'integer').map((p) => p.name),
  );
  const compiled = compileTemplate(injectableContent(spec), 'spec', integerParams);
  problems.push(
    ...compiled.problems,
    ...referenceProblems(spec, compiled.paramRefs, params),
    ...conditionProblems(compiled.conditions, params),
    ...containerRefProblems(compiled.containerRefs),
    ...annotationsInCommands(spec),
    ...templatedMountPaths(spec),
    ...emptyPolicyProblems(spec),
  );
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    policy: {
      name: document.metadata.name,
      spec,
      hash: hashPolicy(spec),
      source,
      params,
      template: compiled.node,
      appContainerTemplate:
        compiled.containerRefs.length > 0 ? entryOf(compiled.node, 'appContainer') : undefined,
    },
  };
}

/** annotationKeyProblems: a policy's pod annotations are qualified names outside tandem.dev/. */
function annotationKeyProblems(spec: SidecarPolicy['spec']): TemplateProblem[] {
  return Object.keys(spec.podAnnotations ?? {})
    .filter((key) => !QUALIFIED_NAME.test(key) || key.startsWith('tandem.dev/'))
    .map((key) => ({
      fieldPath: `spec.podAnnotations.${key}`,
      message: 'not a valid annotation key (a qualified name outside tandem.dev/)',
    }));
}

/** referenceProblems: every `{{ params.NAME }}` names a declared param. */
function referenceProblems(
  spec: SidecarPolicy['spec'],
  paramRefs: Iterable<string>,
  params: ReadonlyMap<string, CompiledParam>,
): TemplateProblem[] {
  return [...paramRefs]
    .filter((name) => !params.has(name))
    .map((name) => ({
      fieldPath: findReference(spec, name),
      message: `template references params.${name}, which spec.params does not declare`,
    }));
}

/** containerRefProblems: `{{ container.name }}` is known only in appContainer. */
function containerRefProblems(containerRefs: readonly string[]): TemplateProblem[] {
  return containerRefs
    .filter((fieldPath) => !fieldPath.startsWith('spec.appContainer.'))
    .map((fieldPath) => ({
      fieldPath,
      message:
        'container.name is the target app container, known only in appContainer (rendered for each one)',
    }));
}

/** emptyPolicyProblems: a policy must add something to a pod. */
function emptyPolicyProblems(spec: SidecarPolicy['spec']): TemplateProblem[] {
  const containers = (spec.containers?.length ?? 0) + (spec.initContainers?.length ?? 0);
  if (containers > 0 || spec.appContainer !== undefined || spec.podAnnotations !== undefined) {
    return [];
  }
  return [{ fieldPath: 'spec', message: 'the policy injects nothing' }];
}

/**
 * conditionProblems checks each `$if` against the params: it must name a declared param,
 * and its literal must be a value the param accepts, or the branch could never be chosen
 * (a typo such as `equals: stdot` would silently drop the items it guards).
 */
function conditionProblems(
  conditions: readonly TemplateCondition[],
  params: ReadonlyMap<string, CompiledParam>,
): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const { param: name, equals, fieldPath } of conditions) {
    const param = params.get(name);
    if (param === undefined) {
      problems.push({
        fieldPath: `${fieldPath}.$if.param`,
        message: `$if compares params.${name}, which spec.params does not declare`,
      });
      continue;
    }
    if (literalRefused(param, equals)) {
      problems.push({
        fieldPath: `${fieldPath}.$if.equals`,
        message: `$if compares params.${name} with "${equals}", a value the param does not accept, so the condition can never hold`,
      });
    }
  }
  return problems;
}

const ANNOTATION_REF = /\{\{\s*pod\.annotations\[/;

/**
 * annotationsInCommands refuses `{{ pod.annotations[...] }}` in a container's command or
 * args: an annotation value is unchecked text from the pod's author, and in a command line
 * it could be run by a shell. Pass it through env instead, where it stays data.
 */
function annotationsInCommands(spec: PolicySpec): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const list of ['initContainers', 'containers'] as const) {
    for (const [i, container] of (spec[list] ?? []).entries()) {
      for (const field of ['command', 'args']) {
        const value = (container as JsonObject)[field];
        if (!Array.isArray(value)) continue;
        for (const { item, fieldPath } of everyBranchItem(value, `spec.${list}[${i}].${field}`)) {
          if (typeof item === 'string' && ANNOTATION_REF.test(item)) {
            problems.push({
              fieldPath,
              message: 'pod.annotations may not go into a command line; pass it through env',
            });
          }
        }
      }
    }
  }
  return problems;
}

/**
 * templatedMountPaths refuses a template in an injected container's mount path. A value
 * from the pod could otherwise land a volume the app writes to on the container's own
 * files (`logDir=/fluent-bit/bin` over Fluent Bit's binary). tandem cannot know an
 * image's layout, so only the paths the admin wrote, and checked against the image, are
 * trusted; params still decide where the app sees a volume (appContainer.volumeMounts),
 * which is the pod's own filesystem.
 */
function templatedMountPaths(spec: PolicySpec): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const list of ['initContainers', 'containers'] as const) {
    for (const [i, container] of (spec[list] ?? []).entries()) {
      const mounts = (container as JsonObject)['volumeMounts'];
      if (!Array.isArray(mounts)) continue;
      const items = everyBranchItem(mounts, `spec.${list}[${i}].volumeMounts`);
      for (const { item: mount, fieldPath } of items) {
        const path = isJsonObject(mount) ? mount['mountPath'] : undefined;
        if (typeof path === 'string' && path.includes('{{')) {
          problems.push({
            fieldPath: `${fieldPath}.mountPath`,
            message:
              "an injected container's mount path must be fixed, not a template: a pod's value could land a volume on the container's own files",
          });
        }
      }
    }
  }
  return problems;
}

/** entryOf is the compiled value under one key of a compiled map. */
function entryOf(node: TemplateNode, key: string): TemplateNode | undefined {
  if (node.type !== 'object') return undefined;
  return node.entries.find(([name]) => name === key)?.[1];
}

/** findReference finds the first field path whose string references params.NAME. */
function findReference(spec: PolicySpec, name: string): string {
  const needle = new RegExp(`\\{\\{\\s*params\\.${name}\\s*\\}\\}`);
  const search = (value: unknown, path: string): string | undefined => {
    if (typeof value === 'string') return needle.test(value) ? path : undefined;
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) {
        const found = search(item, `${path}[${i}]`);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const found = search(child, `${path}.${key}`);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return search(injectableContent(spec), 'spec') ?? 'spec';
}

/** isAutomatic: the policy applies without being requested, by pod labels or by namespace. */
export function isAutomatic(policy: LoadedPolicy): boolean {
  return policy.spec.selector !== undefined || policy.spec.namespaceInjection === true;
}

/**
 * buildPolicySet indexes compiled policies; names are assumed unique and `clusterValues`
 * already checked against the policies (the loader does both).
 */
export function buildPolicySet(
  policies: readonly LoadedPolicy[],
  clusterValues: ClusterValues = new Map(),
): PolicySet {
  const byName = new Map(policies.map((p) => [p.name, p] as const));
  const automatic = policies
    .filter((p) => isAutomatic(p))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { byName, clusterValues, automatic, automaticIndex: indexAutomatic(automatic) };
}

function indexAutomatic(automatic: readonly LoadedPolicy[]): AutomaticIndex {
  const byLabel = new Map<string, Map<string, LoadedPolicy[]>>();
  const unindexed: LoadedPolicy[] = [];
  for (const policy of automatic) {
    const first = Object.entries(policy.spec.selector?.matchLabels ?? {})[0];
    if (first === undefined) {
      unindexed.push(policy);
      continue;
    }
    const [key, value] = first;
    let values = byLabel.get(key);
    if (values === undefined) {
      values = new Map();
      byLabel.set(key, values);
    }
    values.set(value, [...(values.get(value) ?? []), policy]);
  }
  return { byLabel, unindexed, rank: new Map(automatic.map((p, i) => [p, i] as const)) };
}

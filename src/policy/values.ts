/**
 * PolicyValues documents: the params an admin sets once for the whole cluster, as Helm
 * values or a kustomize patch would, so that a pod need not know cluster facts such as
 * where the log aggregator is. They sit beside the policies (the same directory, the
 * same ConfigMap), are loaded, reloaded and linted with them, and are checked against
 * the policies they name: a value that does not fit its param never loads.
 *
 *     apiVersion: tandem.dev/v1alpha1
 *     kind: PolicyValues
 *     metadata: {name: cluster}
 *     spec:
 *       log-forwarder:
 *         host: fluentd.logging.svc.cluster.local
 */
import type { PolicyIssue } from '../errors.ts';
import { paramValueProblem } from './param-value.ts';
import { isJsonObject, type JsonObject } from '../json.ts';
import type { ClusterValue, ClusterValues, LoadedPolicy } from './compile.ts';
import type { DocumentLocator, PathSegment } from './positions.ts';
import { API_VERSION } from './validate.ts';

/** VALUES_KIND is the `kind` of a values document. */
export const VALUES_KIND = 'PolicyValues';

/** ValuesEntry is one value a document sets: a policy's param. */
export interface ValuesEntry {
  readonly policy: string;
  readonly param: string;
  readonly value: string;
}

/** ValuesDocument is one PolicyValues document's entries, with where each is written. */
export interface ValuesDocument {
  readonly file: string;
  readonly locator: DocumentLocator;
  readonly entries: readonly ValuesEntry[];
}

/** isValuesDocument: the document says it is a PolicyValues (its other fields may be wrong). */
export function isValuesDocument(data: unknown): boolean {
  return isJsonObject(data) && data['kind'] === VALUES_KIND;
}

function issueAt(
  file: string,
  locator: DocumentLocator,
  segments: readonly PathSegment[],
  message: string,
): PolicyIssue {
  const { line, column } = locator.locate(segments, 'value');
  return { file, line, column, fieldPath: segments.join('.'), message };
}

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec']);

/**
 * readValuesDocument checks a PolicyValues document's shape: `spec` maps a policy's name
 * to a map of param to value, a string or an integer (Helm writes `port: 24224`). Every
 * problem is an issue; the entries that are well-formed are kept either way.
 */
export function readValuesDocument(
  file: string,
  data: unknown,
  locator: DocumentLocator,
): { readonly document: ValuesDocument; readonly issues: readonly PolicyIssue[] } {
  const issues: PolicyIssue[] = [];
  const entries: ValuesEntry[] = [];
  const document = { file, locator, entries };
  if (!isJsonObject(data)) return { document, issues };
  const at = (path: readonly PathSegment[], message: string): void => {
    issues.push(issueAt(file, locator, path, message));
  };
  if (data['apiVersion'] !== API_VERSION)
    at(['apiVersion'], `expected apiVersion "${API_VERSION}"`);
  for (const key of Object.keys(data).filter((k) => !TOP_LEVEL.has(k))) {
    at([key], `unknown field "${key}" of a ${VALUES_KIND}`);
  }
  const spec = data['spec'];
  if (spec === undefined || spec === null) return { document, issues };
  if (!isJsonObject(spec)) {
    at(['spec'], 'spec must map policy names to their params');
    return { document, issues };
  }
  for (const [policy, params] of Object.entries(spec)) {
    if (isJsonObject(params)) entries.push(...readParamValues(policy, params, at));
    else at(['spec', policy], `the values of policy "${policy}" must be a map of param to value`);
  }
  return { document, issues };
}

/** readParamValues reads one policy's values: each a string or an integer, else an issue. */
function readParamValues(
  policy: string,
  params: JsonObject,
  at: (path: readonly PathSegment[], message: string) => void,
): ValuesEntry[] {
  const entries: ValuesEntry[] = [];
  for (const [param, value] of Object.entries(params)) {
    if (typeof value === 'string') entries.push({ policy, param, value });
    else if (typeof value === 'number' && Number.isSafeInteger(value)) {
      entries.push({ policy, param, value: String(value) });
    } else {
      at(['spec', policy, param], 'a value must be a string or an integer');
    }
  }
  return entries;
}

/**
 * buildClusterValues checks every entry against the loaded policies (the policy and the
 * param exist, the value fits the param's pattern, length and type) and keeps the ones
 * that do. A param set twice, in one document or two, is an issue pointing at the first.
 */
export function buildClusterValues(
  documents: readonly ValuesDocument[],
  policies: ReadonlyMap<string, LoadedPolicy>,
): { readonly values: ClusterValues; readonly issues: readonly PolicyIssue[] } {
  const values = new Map<string, Map<string, ClusterValue>>();
  const issues: PolicyIssue[] = [];
  for (const { file, locator, entries } of documents) {
    for (const { policy: name, param: paramName, value } of entries) {
      const segments = ['spec', name, paramName];
      const at = (message: string): PolicyIssue => issueAt(file, locator, segments, message);
      const policy = policies.get(name);
      const param = policy?.params.get(paramName);
      if (policy === undefined) {
        issues.push(at(`sets a value for policy "${name}", which is not loaded`));
        continue;
      }
      if (param === undefined) {
        issues.push(at(`policy "${name}" has no param "${paramName}"`));
        continue;
      }
      const where = `the value of param "${paramName}"`;
      const problem = paramValueProblem(policy, param, value, where);
      if (problem !== undefined) {
        issues.push(at(problem.message));
        continue;
      }
      const source = `${file}:${locator.locate(segments, 'value').line}`;
      const forPolicy = values.get(name) ?? new Map<string, ClusterValue>();
      const first = forPolicy.get(paramName);
      if (first !== undefined) {
        issues.push(
          at(`param "${paramName}" of policy "${name}" is already set at ${first.source}`),
        );
        continue;
      }
      forPolicy.set(paramName, { value, source });
      values.set(name, forPolicy);
    }
  }
  return { values, issues };
}

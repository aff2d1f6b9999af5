/**
 * Schema validation of one policy document, with ajv's errors rewritten into issues a
 * policy author can act on: the field path in dotted form, the line and column of the
 * YAML node, and a message that names the field rather than quoting JSON Schema.
 */
import type { ErrorObject } from 'ajv';
import type { PolicyIssue } from '../errors.ts';
import type { JsonValue } from '../json.ts';
import { IF_KEY, isConditionalItem } from './conditional.ts';
import {
  dataSegments,
  formatFieldPath,
  pointerSegments,
  type DocumentLocator,
  type FieldTarget,
  type PathSegment,
} from './positions.ts';
import { DNS_1123_LABEL, type SidecarPolicy } from './schema.ts';
import { validateSchema } from './schema-validator.ts';

/** API_VERSION and KIND identify a SidecarPolicy document. */
export const API_VERSION = 'tandem.dev/v1alpha1';
/** KIND is the `kind` of a policy document. */
export const KIND = 'SidecarPolicy';

/** ValidationResult is a schema-valid policy, or every issue the document has. */
export type ValidationResult =
  | { readonly ok: true; readonly document: SidecarPolicy }
  | {
      readonly ok: false;
      /** isPolicy is false when the document is not a SidecarPolicy at all. */
      readonly isPolicy: boolean;
      readonly issues: readonly PolicyIssue[];
    };

interface IssueDraft {
  readonly segments: readonly PathSegment[];
  readonly target: FieldTarget;
  readonly message: string;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `string "${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value;
}

function schemaProperty(error: ErrorObject, key: string): unknown {
  const schema: unknown = error.parentSchema;
  return schema !== null && typeof schema === 'object'
    ? (schema as Record<string, unknown>)[key]
    : undefined;
}

/** editDistance is Levenshtein's, for "did you mean" on a misspelt field name. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function unknownFieldMessage(error: ErrorObject, field: string): string {
  const patterns = schemaProperty(error, 'patternProperties');
  if (patterns !== null && typeof patterns === 'object') {
    const pattern = Object.keys(patterns).join(' or ');
    return `"${field}" is not a valid name: it must match ${pattern}`;
  }
  const properties = schemaProperty(error, 'properties');
  const known =
    properties !== null && typeof properties === 'object' ? Object.keys(properties) : [];
  const close = known.find((name) => editDistance(name.toLowerCase(), field.toLowerCase()) <= 2);
  const hint = close === undefined ? '' : ` (did you mean "${close}"?)`;
  return `unknown field "${field}"${hint}`;
}

function patternMessage(error: ErrorObject): string {
  const pattern = String(error.params['pattern']);
  if (pattern === DNS_1123_LABEL) {
    return `${describe(error.data)} is not a valid name: use lowercase letters, digits and "-", starting and ending with a letter or digit (a DNS-1123 label)`;
  }
  return `${describe(error.data)} does not match ${pattern}`;
}

function anyOfMessage(error: ErrorObject, children: readonly ErrorObject[]): string {
  const allowed = children
    .filter((child) => child.keyword === 'const')
    .map((child) => JSON.stringify(child.params['allowedValue']));
  if (allowed.length === 0) return error.message ?? 'is not valid';
  return `must be one of ${allowed.join(', ')}, got ${describe(error.data)}`;
}

/** draftIssue rewrites one ajv error; `children` are the errors under it for anyOf. */
function draftIssue(
  error: ErrorObject,
  data: unknown,
  children: readonly ErrorObject[],
): IssueDraft {
  const segments = dataSegments(data, pointerSegments(error.instancePath));
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(error.params['additionalProperty']);
      return {
        segments: [...segments, field],
        target: 'key',
        message: unknownFieldMessage(error, field),
      };
    }
    case 'required':
      // A conditional in one of the policy's own typed lists lacks their required fields;
      // say what is wrong with it rather than which field it lacks.
      if (isConditionalItem(error.data as JsonValue)) {
        return {
          segments: [...segments, IF_KEY],
          target: 'key',
          message:
            "a conditional ($if) may only stand in a list inside a container (args, env, volumeMounts, ...), not directly in the policy's containers, volumes or appContainer",
        };
      }
      // The field is absent, so the closest place to point at is the map that lacks it.
      return {
        segments: [...segments, String(error.params['missingProperty'])],
        target: 'value',
        message: 'required field is missing',
      };
    case 'type':
      return {
        segments,
        target: 'value',
        message: `expected ${String(error.params['type'])}, got ${describe(error.data)}`,
      };
    case 'const':
      return {
        segments,
        target: 'value',
        message: `must be ${JSON.stringify(error.params['allowedValue'])}, got ${describe(error.data)}`,
      };
    case 'anyOf':
      return { segments, target: 'value', message: anyOfMessage(error, children) };
    case 'pattern':
      return { segments, target: 'value', message: patternMessage(error) };
    case 'minLength':
      return { segments, target: 'value', message: 'must not be empty' };
    default:
      return { segments, target: 'value', message: error.message ?? 'is not valid' };
  }
}

/** draftIssues folds each anyOf's branch errors into the anyOf, one issue per field. */
function draftIssues(errors: readonly ErrorObject[], data: unknown): IssueDraft[] {
  const anyOfs = errors.filter((error) => error.keyword === 'anyOf');
  const under = (error: ErrorObject, parent: ErrorObject): boolean =>
    error !== parent && error.schemaPath.startsWith(`${parent.schemaPath}/`);
  return errors
    .filter((error) => !anyOfs.some((parent) => under(error, parent)))
    .map((error) =>
      draftIssue(
        error,
        data,
        errors.filter((child) => under(child, error)),
      ),
    );
}

function issueAt(file: string, locator: DocumentLocator, draft: IssueDraft): PolicyIssue {
  // A missing field has no node of its own: locate() stops at the deepest existing one,
  // which for `required` is the parent map.
  const { line, column } = locator.locate(draft.segments, draft.target);
  return { file, line, column, fieldPath: formatFieldPath(draft.segments), message: draft.message };
}

/**
 * kindIssue tells a document that is not a SidecarPolicy apart before schema validation,
 * so a stray Deployment in the directory gets one clear issue instead of a dozen.
 */
function kindIssue(data: unknown): IssueDraft | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return {
      segments: [],
      target: 'value',
      message: `expected a ${API_VERSION} ${KIND} document, got ${describe(data)}`,
    };
  }
  const { apiVersion, kind } = data as Record<string, unknown>;
  if (kind !== KIND) {
    const what = typeof kind === 'string' ? `a ${kind}` : 'a document without a kind';
    return {
      segments: typeof kind === 'string' ? ['kind'] : [],
      target: 'value',
      message: `this is ${what}, not a ${API_VERSION} ${KIND}`,
    };
  }
  if (apiVersion !== API_VERSION) {
    return {
      segments: ['apiVersion'],
      target: 'value',
      message: `unsupported apiVersion ${describe(apiVersion)}: expected "${API_VERSION}"`,
    };
  }
  return undefined;
}

/** validatePolicyDocument checks one parsed document against SidecarPolicySchema. */
export function validatePolicyDocument(
  file: string,
  data: unknown,
  locator: DocumentLocator,
): ValidationResult {
  const wrongKind = kindIssue(data);
  if (wrongKind !== undefined) {
    return { ok: false, isPolicy: false, issues: [issueAt(file, locator, wrongKind)] };
  }
  if (validateSchema(data)) return { ok: true, document: data };
  const drafts = draftIssues(validateSchema.errors ?? [], data);
  return {
    ok: false,
    isPolicy: true,
    issues: drafts.map((draft) => issueAt(file, locator, draft)),
  };
}

/**
 * The policy loader: a directory of YAML files in, a PolicySet and every issue out. Each
 * issue names file, line, column and field path; the loader never stops at the first one,
 * so an admin fixes a broken directory in one pass (cert-manager's config validation does
 * the same). The webhook refuses to start on any issue and keeps its last good set on a
 * bad reload; `tandem lint` prints them.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments, type YAMLError } from 'yaml';
import { PolicyInvalidError, TandemError, messageOf, type PolicyIssue } from '../errors.ts';
import { buildPolicySet, compilePolicy, type LoadedPolicy, type PolicySet } from './compile.ts';
import { createLocator, type DocumentLocator, type SourcePosition } from './positions.ts';
import { validatePolicyDocument } from './validate.ts';
import {
  buildClusterValues,
  isValuesDocument,
  readValuesDocument,
  type ValuesDocument,
} from './values.ts';
import { readDocumentValue } from '../yaml-aliases.ts';

/** PolicyLocator finds where a field of a loaded policy is written. */
export type PolicyLocator = (policy: LoadedPolicy, fieldPath: string) => SourcePosition;

/** PolicyDirectoryResult is every policy that loaded and every issue found. */
export interface PolicyDirectoryResult {
  readonly set: PolicySet;
  readonly issues: readonly PolicyIssue[];
  /** locate lets later checks (lint) point at a field of a loaded policy. */
  readonly locate?: PolicyLocator;
}

/** PolicyFileText is one file's name, as issues should show it, and its content. */
export interface PolicyFileText {
  readonly file: string;
  readonly text: string;
}

/** PolicyDocument is one SidecarPolicy document of a file, loaded or not. */
export interface PolicyDocument {
  /** name is `metadata.name` when the document has one, valid or not. */
  readonly name: string | undefined;
  readonly locator: DocumentLocator;
  /** policy is set only when the document had no issue at all. */
  readonly policy: LoadedPolicy | undefined;
}

/** ParsedPolicyFile is what one file holds: its policy documents and its issues. */
export interface ParsedPolicyFile {
  readonly documents: readonly PolicyDocument[];
  /** values are its PolicyValues documents, checked against the policies once all are read. */
  readonly values: readonly ValuesDocument[];
  readonly issues: readonly PolicyIssue[];
}

function metadataName(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const metadata = (data as Record<string, unknown>)['metadata'];
  if (metadata === null || typeof metadata !== 'object') return undefined;
  const name = (metadata as Record<string, unknown>)['name'];
  return typeof name === 'string' ? name : undefined;
}

/** syntaxIssues places each YAML syntax error of a document at its line and column. */
function syntaxIssues(
  file: string,
  errors: readonly YAMLError[],
  lineCounter: LineCounter,
): PolicyIssue[] {
  return errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return { file, line, column: col, fieldPath: '', message: error.message };
  });
}

/**
 * readPolicyDocument validates and compiles one SidecarPolicy document: the document to
 * list (with its policy when it compiled; none when it is not a policy at all), and its
 * issues, each at its field.
 */
function readPolicyDocument(
  file: string,
  data: unknown,
  locator: DocumentLocator,
): { readonly document: PolicyDocument | undefined; readonly issues: PolicyIssue[] } {
  const validated = validatePolicyDocument(file, data, locator);
  if (!validated.ok) {
    const document = validated.isPolicy
      ? { name: metadataName(data), locator, policy: undefined }
      : undefined;
    return { document, issues: [...validated.issues] };
  }
  const compiled = compilePolicy(validated.document, { file, line: locator.start.line });
  const document = {
    name: metadataName(data),
    locator,
    policy: compiled.ok ? compiled.policy : undefined,
  };
  if (compiled.ok) return { document, issues: [] };
  const issues = compiled.problems.map((problem) => {
    const { line, column } = locator.locateFieldPath(problem.fieldPath);
    return { file, line, column, ...problem };
  });
  return { document, issues };
}

/**
 * parsePolicyText parses, validates and compiles every document of one file. Empty
 * documents (a bare `---`, or a file of comments) are skipped.
 */
export function parsePolicyText(file: string, text: string): ParsedPolicyFile {
  const lineCounter = new LineCounter();
  // prettyErrors off: messages without the code excerpt, since issues carry the position.
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const documents: PolicyDocument[] = [];
  const values: ValuesDocument[] = [];
  const issues: PolicyIssue[] = [];
  for (const document of parsed) {
    if (document.errors.length > 0) {
      issues.push(...syntaxIssues(file, document.errors, lineCounter));
      continue;
    }
    const locator = createLocator(document, lineCounter);
    // A policies ConfigMap is admin-written input: a "billion laughs" document must fail
    // by the same rule as a manifest, not hang the webhook.
    const read = readDocumentValue(document);
    if ('problem' in read) {
      const { line, column } = locator.start;
      issues.push({ file, line, column, fieldPath: '', message: read.problem });
      continue;
    }
    const data = read.value;
    // `---` followed by nothing (or only comments) is an empty document, not a bad policy.
    if (data === null || data === undefined) continue;
    if (isValuesDocument(data)) {
      const read = readValuesDocument(file, data, locator);
      values.push(read.document);
      issues.push(...read.issues);
      continue;
    }
    const policy = readPolicyDocument(file, data, locator);
    issues.push(...policy.issues);
    if (policy.document !== undefined) documents.push(policy.document);
  }
  return { documents, values, issues: issues.sort(byPosition) };
}

/** byPosition orders one file's issues top to bottom, as an editor shows them. */
function byPosition(a: PolicyIssue, b: PolicyIssue): number {
  return a.line - b.line || a.column - b.column;
}

// An empty file is what a truncated write leaves behind (issue 9), and loading it would
// silently drop the file's policies; a file that is gone is the way to remove them.
const NO_POLICY_IN_FILE =
  'the file holds no policy (it is empty or all comments); delete the file to remove its policies';

/**
 * buildPolicyDirectory loads already-read files (in the order given) into one set. Names
 * must be unique across all files: the first definition wins and each later one is an
 * issue that points back at it. A file that holds no document at all is an issue too.
 */
export function buildPolicyDirectory(files: readonly PolicyFileText[]): PolicyDirectoryResult {
  const issues: PolicyIssue[] = [];
  const policies: LoadedPolicy[] = [];
  const locators = new WeakMap<LoadedPolicy, DocumentLocator>();
  const seen = new Map<string, { file: string; line: number }>();
  const values: ValuesDocument[] = [];
  for (const { file, text } of files) {
    const parsed = parsePolicyText(file, text);
    issues.push(...parsed.issues);
    values.push(...parsed.values);
    if (parsed.documents.length + parsed.values.length === 0 && parsed.issues.length === 0) {
      issues.push({ file, line: 1, column: 1, fieldPath: '', message: NO_POLICY_IN_FILE });
    }
    for (const document of parsed.documents) {
      if (document.name === undefined) continue;
      const first = seen.get(document.name);
      if (first !== undefined) {
        const { line, column } = document.locator.locateFieldPath('metadata.name');
        issues.push({
          file,
          line,
          column,
          fieldPath: 'metadata.name',
          message: `policy "${document.name}" is already defined at ${first.file}:${first.line}`,
        });
        continue;
      }
      seen.set(document.name, {
        file,
        line: document.locator.locateFieldPath('metadata.name').line,
      });
      if (document.policy !== undefined) {
        policies.push(document.policy);
        locators.set(document.policy, document.locator);
      }
    }
  }
  const locate: PolicyLocator = (policy, fieldPath) =>
    locators.get(policy)?.locateFieldPath(fieldPath) ?? { line: policy.source.line, column: 1 };
  const byName = new Map(policies.map((p) => [p.name, p] as const));
  // Values of a policy that is written but broken: its own issues say what is wrong.
  const checkable = values.map((document) => ({
    ...document,
    entries: document.entries.filter((e) => byName.has(e.policy) || !seen.has(e.policy)),
  }));
  const cluster = buildClusterValues(checkable, byName);
  issues.push(...cluster.issues);
  return { set: buildPolicySet(policies, cluster.values), issues, locate };
}

/** isPolicyFileName: YAML by extension, and not one of a ConfigMap volume's dot entries. */
function isPolicyFileName(name: string): boolean {
  // A mounted ConfigMap holds `..data` and `..<timestamp>` directories next to the
  // top-level symlinks; reading through the symlinks alone loads each policy once.
  return !name.startsWith('.') && (name.endsWith('.yaml') || name.endsWith('.yml'));
}

/** listPolicyFiles names the policy files directly in `dir`, sorted by name. */
async function listPolicyFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new TandemError('TANDEM_ERR_POLICY_LOAD', `cannot read policies directory "${dir}"`, {
      cause: error,
    });
  }
  // Code-unit order, not locale order: the same directory loads the same way everywhere.
  return names.filter(isPolicyFileName).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function readPolicyFile(file: string): Promise<PolicyFileText | PolicyIssue | undefined> {
  try {
    // stat follows symlinks, which is what a ConfigMap's top-level entries are.
    if (!(await stat(file)).isFile()) return undefined;
    return { file, text: await readFile(file, 'utf8') };
  } catch (error) {
    const message = `cannot read the file: ${messageOf(error)}`;
    return { file, line: 1, column: 1, fieldPath: '', message };
  }
}

/** PolicyFiles is what a read of a policies directory found: the files and read issues. */
export interface PolicyFiles {
  readonly dir: string;
  readonly files: readonly PolicyFileText[];
  /** issues are the files that could not be read. */
  readonly issues: readonly PolicyIssue[];
}

/**
 * readPolicyFiles reads every *.yaml/*.yml file of `dir`; it throws
 * TANDEM_ERR_POLICY_LOAD when the directory itself cannot be read.
 */
export async function readPolicyFiles(dir: string): Promise<PolicyFiles> {
  const files: PolicyFileText[] = [];
  const issues: PolicyIssue[] = [];
  for (const name of await listPolicyFiles(dir)) {
    const read = await readPolicyFile(join(dir, name));
    if (read === undefined) continue;
    if ('text' in read) files.push(read);
    else issues.push(read);
  }
  return { dir, files, issues };
}

/**
 * buildPolicyFiles loads files already read. A directory without a single policy file is
 * an issue: it is what a ConfigMap emptied by mistake, or a volume not mounted, looks
 * like, and a webhook with no policies denies every pod that asks for one.
 */
export function buildPolicyFiles(read: PolicyFiles): PolicyDirectoryResult {
  const result = buildPolicyDirectory(read.files);
  const issues = [...read.issues, ...result.issues];
  if (read.files.length === 0 && read.issues.length === 0) {
    const message = 'the directory holds no policy file (*.yaml, *.yml)';
    issues.push({ file: read.dir, line: 0, column: 0, fieldPath: '', message });
  }
  return { ...result, issues };
}

/** readPolicyDirectory loads every *.yaml/*.yml file of `dir`, collecting all issues. */
export async function readPolicyDirectory(dir: string): Promise<PolicyDirectoryResult> {
  return buildPolicyFiles(await readPolicyFiles(dir));
}

/** loadPolicies loads `dir` and throws PolicyInvalidError listing every issue, if any. */
export async function loadPolicies(dir: string): Promise<PolicySet> {
  const result = await readPolicyDirectory(dir);
  if (result.issues.length > 0) throw new PolicyInvalidError(result.issues);
  return result.set;
}

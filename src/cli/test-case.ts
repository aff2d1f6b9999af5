/**
 * One `tandem test` case: a folder holding the input and what the policies should make
 * of it. The format is the repository's own golden cases (test/fixtures/golden), so it is
 * proved on real ones:
 *
 * - `pod.yaml`: the input, one Pod or workload (Deployment, Job, CronJob, ...);
 * - `policies.yaml` (optional): policies of the case, loaded beside `--policies DIR`;
 * - `context.yaml` (optional): `namespaceLabels` (a map), `kubernetesVersion` ("1.28"),
 *   `sidecarMode` (native or classic);
 * - the outcome, one of: `expected.yaml`, the object after injection (the input itself
 *   when nothing applies), or `expected.denied.txt`, text the denial must contain: the
 *   denial reads `<code>: <message>` (README, "Error and denial codes"), so a case can
 *   hold the code, the message, or both;
 * - `expected.patch.json`, `expected.warnings.json` (optional): the exact patch and
 *   warnings, for cases whose point they are.
 *
 * A file in the folder that is none of these fails the case, so a misspelt expectation
 * is not silently skipped.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { Document, parse } from 'yaml';
import { formatPolicyIssue } from '../errors.ts';
import { injectPod } from '../inject/engine.ts';
import type { InjectResult } from '../inject/types.ts';
import { isJsonObject, type JsonObject } from '../json.ts';
import type { V1Pod } from '@kubernetes/client-node';
import { injectContext, type NamespaceDirectory } from '../kube/namespaces.ts';
import type { PolicySet } from '../policy/compile.ts';
import { staticNamespaces } from '../kube/static-namespaces.ts';
import { nativeSupport, parseClusterVersion } from '../kube/version.ts';
import {
  ASSUMED_SUPPORT,
  SIDECAR_MODES,
  decideSidecars,
  type SidecarMode,
  type SidecarSettings,
} from '../sidecar-mode.ts';
import { buildPolicyDirectory, type PolicyFileText } from '../policy/load.ts';
import { parseManifests } from './documents.ts';
import { documentWorkloads } from './document-workloads.ts';
import { MANIFEST_YAML_OPTIONS } from './manifest-yaml.ts';

export const INPUT = 'pod.yaml';
const POLICIES = 'policies.yaml';
const CONTEXT = 'context.yaml';
const EXPECTED_OBJECT = 'expected.yaml';
const EXPECTED_DENIAL = 'expected.denied.txt';
const EXPECTED_PATCH = 'expected.patch.json';
const EXPECTED_WARNINGS = 'expected.warnings.json';
const KNOWN: ReadonlySet<string> = new Set([
  INPUT,
  POLICIES,
  CONTEXT,
  EXPECTED_OBJECT,
  EXPECTED_DENIAL,
  EXPECTED_PATCH,
  EXPECTED_WARNINGS,
]);

/** CaseSettings are what every case shares: the policies directory's files and the default mode. */
export interface CaseSettings {
  readonly policyFiles: readonly PolicyFileText[];
  readonly sidecarMode: SidecarMode;
  /** admit answers each case's admission; the engine when absent. */
  readonly admit?: Admit;
}

/** CaseResult is a case's verdict, with every reason it failed. */
export interface CaseResult {
  readonly name: string;
  readonly problems: readonly string[];
  readonly updated: boolean;
}

/** findCases lists every folder under `root` (itself included) that holds a `pod.yaml`. */
export function findCases(root: string): string[] {
  const entries = readdirSync(root, { withFileTypes: true });
  const own = entries.some((entry) => entry.isFile() && entry.name === INPUT) ? [root] : [];
  const nested = entries
    .filter((entry) => entry.isDirectory())
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => findCases(path.join(root, entry.name)));
  return [...own, ...nested];
}

interface CaseContext {
  readonly namespaceLabels: Readonly<Record<string, string>>;
  readonly kubernetesVersion: string | undefined;
  readonly sidecarMode: SidecarMode | undefined;
}

const CONTEXT_FIELDS: ReadonlySet<string> = new Set([
  'namespaceLabels',
  'kubernetesVersion',
  'sidecarMode',
]);

/** stringMapOf reads a map of strings, or undefined when it is not one. */
function stringMapOf(value: unknown): Record<string, string> | undefined {
  if (!isJsonObject(value)) return undefined;
  return Object.values(value).every((v) => typeof v === 'string')
    ? (value as Record<string, string>)
    : undefined;
}

/** sidecarModeOf reads a case's sidecarMode, or undefined when it is not a mode. */
function sidecarModeOf(value: unknown): SidecarMode | undefined {
  return SIDECAR_MODES.find((mode) => mode === value);
}

/** contextLabels reads `namespaceLabels`, or says it is not a map of strings. */
function contextLabels(value: JsonObject, problems: string[]): Record<string, string> {
  const labels = stringMapOf(value.namespaceLabels ?? {});
  if (labels !== undefined) return labels;
  problems.push(`${CONTEXT}: namespaceLabels: must map label names to strings`);
  return {};
}

/** contextVersion reads `kubernetesVersion`, or says it is not a string. */
function contextVersion(value: JsonObject, problems: string[]): string | undefined {
  const version = value.kubernetesVersion;
  if (version === undefined || typeof version === 'string') return version;
  problems.push(`${CONTEXT}: kubernetesVersion: must be a string such as "1.29"`);
  return undefined;
}

/** contextMode reads `sidecarMode`, or says it is not a mode. */
function contextMode(value: JsonObject, problems: string[]): SidecarMode | undefined {
  const mode = sidecarModeOf(value.sidecarMode);
  if (value.sidecarMode !== undefined && mode === undefined) {
    problems.push(`${CONTEXT}: sidecarMode: must be native or classic`);
  }
  return mode;
}

/** readContext reads context.yaml, each wrong field a problem. */
function readContext(dir: string, problems: string[]): CaseContext {
  const file = path.join(dir, CONTEXT);
  const empty = { namespaceLabels: {}, kubernetesVersion: undefined, sidecarMode: undefined };
  if (!existsSync(file)) return empty;
  const value: unknown = parse(readFileSync(file, 'utf8'));
  if (!isJsonObject(value)) {
    problems.push(`${CONTEXT}: must be a map`);
    return empty;
  }
  const context = {
    namespaceLabels: contextLabels(value, problems),
    kubernetesVersion: contextVersion(value, problems),
    sidecarMode: contextMode(value, problems),
  };
  for (const key of Object.keys(value).filter((k) => !CONTEXT_FIELDS.has(k))) {
    problems.push(`${CONTEXT}: ${key}: not a field of a case's context`);
  }
  return context;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}

/** differences names the paths where `actual` departs from `expected`, at most ten. */
function differences(expected: unknown, actual: unknown): string[] {
  const ops = jsonpatch.compare(
    expected as Record<string, unknown>,
    actual as Record<string, unknown>,
  );
  const lines = ops.slice(0, 10).map((op) => {
    if (op.op === 'remove') return `  ${op.path}: expected, but missing`;
    const value = JSON.stringify('value' in op ? op.value : undefined) ?? 'undefined';
    const shown = value.length > 120 ? `${value.slice(0, 120)}...` : value;
    return `  ${op.path}: ${op.op === 'add' ? 'not expected' : 'got'} ${shown}`;
  });
  if (ops.length > 10) lines.push(`  ... and ${ops.length - 10} more`);
  return lines;
}

/** Outcome is what the engine made of the case's input. */
type Outcome =
  | { readonly denied: string; readonly warnings: readonly string[] }
  | {
      readonly object: unknown;
      readonly patch: readonly Operation[];
      readonly warnings: readonly string[];
    };

/** inject runs the engine on the case's one workload and applies its patch to the input. */
function inject(value: unknown, pathTo: readonly string[], result: InjectResult): Outcome {
  if (result.outcome === 'denied') {
    return { denied: `${result.code}: ${result.reason}`, warnings: result.warnings };
  }
  if (result.outcome === 'unchanged')
    return { object: value, patch: [], warnings: result.warnings };
  const prefix = pathTo.map((key) => `/${jsonpatch.escapePathComponent(key)}`).join('');
  const ops = result.patch.map((op) => ({ ...op, path: `${prefix}${op.path}` }));
  const object = jsonpatch.applyPatch(structuredClone(value), ops, true, false).newDocument;
  return { object, patch: result.patch, warnings: result.warnings };
}

/**
 * CaseAdmission is a case's pod and everything its admission reads: the policies, the
 * namespace and what the directory knows of it, and the decided sidecar settings.
 */
export interface CaseAdmission {
  readonly pod: V1Pod;
  readonly policies: PolicySet;
  readonly namespace: string;
  readonly namespaces: NamespaceDirectory;
  readonly sidecars: SidecarSettings;
}

/**
 * Admit answers one case's admission. `tandem test` runs the engine as `tandem inject`
 * does (admitWithEngine); the repository's golden tests also send each case through the
 * webhook's handler, so both paths are held to the same expected files.
 */
export type Admit = (admission: CaseAdmission) => InjectResult;

/** admitWithEngine is the engine with the context the offline verbs build. */
export const admitWithEngine: Admit = (admission) =>
  injectPod(
    admission.pod,
    admission.policies,
    injectContext(admission.namespaces, admission.namespace, admission.sidecars),
  );

/** ReadCase is a case read: its admission, and where its pod sits in the input document. */
export interface ReadCase {
  readonly admission: CaseAdmission;
  readonly value: unknown;
  readonly podPath: readonly string[];
}

/** caseSidecars decides the case's sidecar settings from its context, or says why not. */
function caseSidecars(
  context: CaseContext,
  settings: CaseSettings,
  problems: string[],
): SidecarSettings | undefined {
  const mode = context.sidecarMode ?? settings.sidecarMode;
  if (context.kubernetesVersion === undefined) return decideSidecars(mode, ASSUMED_SUPPORT);
  const version = parseClusterVersion({ gitVersion: context.kubernetesVersion });
  if (version === undefined) {
    problems.push(
      `${CONTEXT}: kubernetesVersion: "${context.kubernetesVersion}" is not a version such as "1.29"`,
    );
    return undefined;
  }
  return decideSidecars(mode, nativeSupport(version));
}

/** readCase reads the case's input, policies and context; problems say what is wrong. */
export function readCase(
  dir: string,
  settings: CaseSettings,
  problems: string[],
): ReadCase | undefined {
  const context = readContext(dir, problems);
  const policyFile = path.join(dir, POLICIES);
  const own = existsSync(policyFile)
    ? [{ file: policyFile, text: readFileSync(policyFile, 'utf8') }]
    : [];
  const loaded = buildPolicyDirectory([...settings.policyFiles, ...own]);
  problems.push(...loaded.issues.map((issue) => formatPolicyIssue(issue)));
  const documents = parseManifests(readFileSync(path.join(dir, INPUT), 'utf8'), INPUT);
  const values = documents.map((d) => d.value).filter((v) => v !== null && v !== undefined);
  const [value] = values;
  const workloads = values.length === 1 ? documentWorkloads(value, 'default') : [];
  const [found] = workloads;
  if (found === undefined || workloads.length !== 1) {
    problems.push(`${INPUT}: must hold exactly one Pod or workload`);
    return undefined;
  }
  if ('problem' in found.workload) {
    problems.push(`${INPUT}: ${found.workload.problem}`);
    return undefined;
  }
  const sidecars = caseSidecars(context, settings, problems);
  if (problems.length > 0 || sidecars === undefined) return undefined;
  const { workload } = found;
  const namespaces = staticNamespaces({
    [workload.namespace]: {
      'kubernetes.io/metadata.name': workload.namespace,
      ...context.namespaceLabels,
    },
  });
  return {
    admission: {
      pod: workload.pod,
      policies: loaded.set,
      namespace: workload.namespace,
      namespaces,
      sidecars,
    },
    value,
    podPath: [...found.path, ...workload.templatePath],
  };
}

/** compareOutcome checks the outcome against the case's expected files. */
function compareOutcome(dir: string, outcome: Outcome, problems: string[]): void {
  if ('denied' in outcome) compareDenial(dir, outcome.denied, problems);
  else compareObject(dir, outcome, problems);
  const warningsFile = path.join(dir, EXPECTED_WARNINGS);
  if (existsSync(warningsFile) && !isDeepStrictEqual(readJson(warningsFile), outcome.warnings)) {
    problems.push(`the warnings differ from ${EXPECTED_WARNINGS}:`);
    problems.push(...differences(readJson(warningsFile), outcome.warnings));
  }
}

/** compareDenial checks a denial against expected.denied.txt. */
function compareDenial(dir: string, denied: string, problems: string[]): void {
  const deniedFile = path.join(dir, EXPECTED_DENIAL);
  if (!existsSync(deniedFile)) {
    problems.push(`denied, but ${EXPECTED_DENIAL} is missing: ${denied}`);
    return;
  }
  const expected = readFileSync(deniedFile, 'utf8').trim();
  if (!denied.includes(expected)) {
    problems.push(`the denial does not contain the text of ${EXPECTED_DENIAL}:`);
    problems.push(`  expected: ${expected}`, `  got:      ${denied}`);
  }
}

/** compareObject checks an admitted object against expected.yaml, and its patch if kept. */
function compareObject(
  dir: string,
  outcome: Extract<Outcome, { object: unknown }>,
  problems: string[],
): void {
  const objectFile = path.join(dir, EXPECTED_OBJECT);
  if (!existsSync(objectFile)) {
    problems.push(
      existsSync(path.join(dir, EXPECTED_DENIAL))
        ? `expected a denial (${EXPECTED_DENIAL}), but the pod was admitted`
        : `${EXPECTED_OBJECT} is missing`,
    );
    return;
  }
  const [expected] = parseManifests(readFileSync(objectFile, 'utf8'), EXPECTED_OBJECT);
  if (!isDeepStrictEqual(expected?.value, outcome.object)) {
    problems.push(`the injected object differs from ${EXPECTED_OBJECT}:`);
    problems.push(...differences(expected?.value, outcome.object));
  }
  const patchFile = path.join(dir, EXPECTED_PATCH);
  if (existsSync(patchFile) && !isDeepStrictEqual(readJson(patchFile), outcome.patch)) {
    problems.push(`the patch differs from ${EXPECTED_PATCH}:`);
    problems.push(...differences(readJson(patchFile), outcome.patch));
  }
}

/** writeOutcome makes the case's expected files say what the engine did (`--update`). */
function writeOutcome(dir: string, outcome: Outcome): void {
  const objectFile = path.join(dir, EXPECTED_OBJECT);
  const deniedFile = path.join(dir, EXPECTED_DENIAL);
  const patchFile = path.join(dir, EXPECTED_PATCH);
  const warningsFile = path.join(dir, EXPECTED_WARNINGS);
  if ('denied' in outcome) {
    writeFileSync(deniedFile, `${outcome.denied}\n`);
    rmSync(objectFile, { force: true });
    rmSync(patchFile, { force: true });
  } else {
    writeFileSync(objectFile, new Document(outcome.object, MANIFEST_YAML_OPTIONS).toString());
    rmSync(deniedFile, { force: true });
    if (existsSync(patchFile))
      writeFileSync(patchFile, `${JSON.stringify(outcome.patch, null, 2)}\n`);
  }
  if (existsSync(warningsFile)) {
    writeFileSync(warningsFile, `${JSON.stringify(outcome.warnings, null, 2)}\n`);
  }
}

/**
 * runCase runs the case in `dir` through the settings' `admit`; with `update`, it writes the expected
 * files instead of failing.
 */
export function runCase(
  dir: string,
  name: string,
  settings: CaseSettings,
  update: boolean,
): CaseResult {
  const problems: string[] = [];
  const stray = readdirSync(dir, { withFileTypes: true }).filter(
    (entry) => entry.isFile() && !KNOWN.has(entry.name),
  );
  for (const entry of stray) problems.push(`${entry.name}: not a file of a case`);
  const read = readCase(dir, settings, problems);
  if (read === undefined) return { name, problems, updated: false };
  const admit = settings.admit ?? admitWithEngine;
  const outcome = inject(read.value, read.podPath, admit(read.admission));
  const before = problems.length;
  compareOutcome(dir, outcome, problems);
  if (!update || problems.length === before) return { name, problems, updated: false };
  writeOutcome(dir, outcome);
  return { name, problems: problems.slice(0, before), updated: true };
}

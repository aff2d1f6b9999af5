/**
 * What `tandem inject` and `tandem explain` share: their flags, the policies, the
 * engine's context for a document, and running the engine on each pod template.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isJsonObject, type JsonObject } from '../json.ts';
import type { PolicySet } from '../policy/compile.ts';
import { loadPolicies } from '../policy/load.ts';
import { parseManifests, readManifestText, type ManifestDocument } from './documents.ts';
import { reportFailure } from './failure.ts';
import { flagLines, parseFlags, type FlagTable, type FlagValues } from './flags.ts';
import { readPod } from '../inject/pod-shape.ts';
import { findPodTemplate, podTemplatePath, workloadNamespace } from '../inject/workloads.ts';
import type { NamespaceDirectory } from '../kube/namespaces.ts';
import {
  readNamespaceAnnotationsFile,
  readNamespaceLabelsFile,
  staticNamespaces,
} from '../kube/static-namespaces.ts';
import {
  ASSUMED_SUPPORT,
  SIDECAR_MODES,
  decideSidecars,
  parseSidecarModeSetting,
  type SidecarMode,
  type SidecarSettings,
} from '../sidecar-mode.ts';

/** OFFLINE_FLAGS are the flags both offline verbs take. */
export const OFFLINE_FLAGS = {
  filename: {
    type: 'string',
    short: 'f',
    arg: 'FILE',
    help: "manifests to read, '-' for standard input (required)",
  },
  policies: { type: 'string', arg: 'DIR', default: 'policies', help: 'policies directory' },
  namespace: {
    type: 'string',
    short: 'n',
    arg: 'NS',
    default: 'default',
    help: 'namespace for documents that name none',
  },
  'namespace-labels': {
    type: 'string',
    arg: 'FILE',
    default: '',
    help: 'YAML map of namespace to labels, for namespaceSelector and the\nPod Security level',
  },
  'namespace-annotations': {
    type: 'string',
    arg: 'FILE',
    default: '',
    help: 'YAML map of namespace to annotations, for the param values a\nnamespace sets',
  },
  'sidecar-mode': {
    type: 'string',
    arg: 'MODE',
    default: 'native',
    help: 'native (init containers with restartPolicy: Always, Kubernetes\n1.29+) or classic',
  },
} as const satisfies FlagTable;

/** OFFLINE_NOTE ends the help of both offline verbs. */
export const OFFLINE_NOTE = `
Offline there is no cluster to ask for namespace labels: a namespace missing from
--namespace-labels carries only its kubernetes.io/metadata.name label, as every
namespace does in a cluster, and no annotations. The cluster-wide param values are the
PolicyValues documents in the policies directory.
`;

/**
 * offlineSidecars is the sidecar settings outside a cluster: the flag's mode, with the
 * native sidecars every Kubernetes still supported runs.
 */
export function offlineSidecars(sidecarMode: SidecarMode): SidecarSettings {
  return decideSidecars(sidecarMode, ASSUMED_SUPPORT);
}

/** WorkloadPod is a document's pod template, ready for the engine. */
export interface WorkloadPod {
  readonly document: JsonObject;
  /** templatePath is where the pod's `metadata` and `spec` sit in the document. */
  readonly templatePath: readonly string[];
  readonly pod: V1Pod;
  readonly namespace: string;
}

/**
 * workloadPod finds the pod in a document's value: undefined for other documents, a
 * problem for a pod template that is not shaped like one.
 */
export function workloadPod(
  value: unknown,
  defaultNamespace: string,
): WorkloadPod | { readonly problem: string } | undefined {
  if (!isJsonObject(value)) return undefined;
  const template = findPodTemplate(value);
  const templatePath = podTemplatePath(value.kind);
  if (template === undefined || templatePath === undefined) return undefined;
  const read = readPod(
    { metadata: template.metadata ?? {}, spec: template.spec ?? null },
    'the pod template',
  );
  if (!read.ok) return { problem: read.reason };
  const pod = { metadata: template.metadata, spec: template.spec } as unknown as V1Pod;
  return {
    document: value,
    templatePath,
    pod,
    namespace: workloadNamespace(value) ?? defaultNamespace,
  };
}

/** OfflineRun is what both offline verbs work on once their flags are read. */
export interface OfflineRun {
  readonly source: string;
  readonly defaultNamespace: string;
  readonly sidecarMode: SidecarMode;
  readonly namespaces: NamespaceDirectory;
  readonly policies: PolicySet;
  readonly documents: readonly ManifestDocument[];
}

/** OfflineVerb is one offline verb: its usage lines, its flags (OFFLINE_FLAGS and its own). */
export interface OfflineVerb<T extends typeof OFFLINE_FLAGS> {
  readonly name: string;
  /** usage is the help's first lines, up to its options. */
  readonly usage: string;
  readonly flags: T;
}

/** offlineHelp is a verb's whole `--help`. */
export function offlineHelp(verb: OfflineVerb<typeof OFFLINE_FLAGS>): string {
  return `${verb.usage}\nOptions:\n${flagLines(verb.flags)}${OFFLINE_NOTE}`;
}

/**
 * runOfflineVerb reads the flags both offline verbs share, loads the policies and the
 * manifests, and hands them to `body`; failures become messages and exit codes.
 */
export async function runOfflineVerb<T extends typeof OFFLINE_FLAGS>(
  verb: OfflineVerb<T>,
  args: string[],
  body: (run: OfflineRun, values: FlagValues<T>) => number | Promise<number>,
): Promise<number> {
  const help = offlineHelp(verb);
  try {
    const parsed = parseFlags(verb.flags, args);
    // T extends OFFLINE_FLAGS, so its values hold the shared ones; TypeScript cannot
    // resolve the mapped type over a type parameter.
    const values = parsed.values as FlagValues<typeof OFFLINE_FLAGS>;
    if (parsed.help) {
      process.stdout.write(help);
      return 0;
    }
    if (values.filename === undefined) {
      process.stderr.write(`tandem ${verb.name}: -f FILE is required\n\n${help}`);
      return 2;
    }
    const sidecarMode = parseSidecarModeSetting(values['sidecar-mode'], SIDECAR_MODES);
    const labelsFile = values['namespace-labels'];
    const annotationsFile = values['namespace-annotations'];
    const namespaces = staticNamespaces(
      labelsFile === '' ? {} : await readNamespaceLabelsFile(labelsFile),
      annotationsFile === '' ? {} : await readNamespaceAnnotationsFile(annotationsFile),
    );
    const policies = await loadPolicies(values.policies);
    const text = await readManifestText(values.filename);
    const documents = parseManifests(text, values.filename);
    const run = {
      source: values.filename,
      defaultNamespace: values.namespace,
      sidecarMode,
      namespaces,
      policies,
      documents,
    };
    return await body(run, parsed.values);
  } catch (error) {
    return reportFailure(verb.name, help, error);
  }
}

/**
 * What `tandem inject` and `tandem explain` share: their flags, the policies, the
 * engine's context for a document, and running the engine on each pod template.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from 'node:util';
import { TandemError } from '../errors.ts';
import { isJsonObject, type JsonObject } from '../json.ts';
import type { PolicySet, SidecarMode } from '../policy/compile.ts';
import { loadPolicies } from '../policy/load.ts';
import { parseManifests, readManifestText, type ManifestDocument } from './documents.ts';
import { reportFailure } from './failure.ts';
import type { InjectContext } from '../inject/types.ts';
import { readPod } from '../inject/pod-shape.ts';
import { findPodTemplate, podTemplatePath, workloadNamespace } from '../inject/workloads.ts';
import { lookupNamespace, type NamespaceDirectory } from '../kube/namespaces.ts';
import { readNamespaceLabelsFile, staticNamespaces } from '../kube/static-namespaces.ts';

/** OFFLINE_OPTIONS are the flags both offline verbs take. */
export const OFFLINE_OPTIONS = {
  filename: { type: 'string', short: 'f' },
  policies: { type: 'string', default: process.env.TANDEM_POLICIES ?? 'policies' },
  namespace: { type: 'string', short: 'n', default: 'default' },
  'namespace-labels': { type: 'string', default: process.env.TANDEM_NAMESPACE_LABELS ?? '' },
  'sidecar-mode': { type: 'string', default: process.env.TANDEM_SIDECAR_MODE ?? 'native' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

/** OFFLINE_HELP documents OFFLINE_OPTIONS. */
export const OFFLINE_HELP = `  -f, --filename FILE    manifests to read, '-' for standard input (required)
      --policies DIR     policies directory (env TANDEM_POLICIES, default: policies)
  -n, --namespace NS     namespace for documents that name none (default: default)
      --namespace-labels FILE
                         YAML map of namespace to labels, for namespaceSelector and the
                         Pod Security level (env TANDEM_NAMESPACE_LABELS)
      --sidecar-mode M   native (init containers with restartPolicy: Always, Kubernetes
                         1.29+) or classic (env TANDEM_SIDECAR_MODE, default: native)
  -h, --help             show this help

Offline there is no cluster to ask for namespace labels: a namespace missing from
--namespace-labels carries only its kubernetes.io/metadata.name label, as every
namespace does in a cluster.
`;

/** parseSidecarMode checks the --sidecar-mode flag. */
export function parseSidecarMode(value: string): SidecarMode {
  if (value === 'native' || value === 'classic') return value;
  throw new TandemError(
    'TANDEM_ERR_CONFIG',
    `--sidecar-mode must be native or classic, not "${value}"`,
  );
}

/** offlineContext is the engine's context for a document outside a cluster. */
export function offlineContext(
  namespace: string,
  sidecarMode: SidecarMode,
  namespaces: NamespaceDirectory,
): InjectContext {
  const info = lookupNamespace(namespaces, namespace);
  return {
    namespace,
    namespaceLabels: info.labels,
    sidecarMode,
    nativeSidecarsSupported: true,
    podSecurityLevel: info.podSecurityLevel,
  };
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
  if ('problem' in read) return { problem: read.problem };
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

/**
 * runOfflineVerb reads the flags both offline verbs share, loads the policies and the
 * manifests, and hands them to `body`; failures become messages and exit codes.
 */
export async function runOfflineVerb(
  verb: string,
  help: string,
  args: string[],
  body: (run: OfflineRun) => number,
): Promise<number> {
  try {
    const { values } = parseArgs({ args, options: OFFLINE_OPTIONS, strict: true });
    if (values.help === true) {
      process.stdout.write(help);
      return 0;
    }
    if (values.filename === undefined) {
      process.stderr.write(`tandem ${verb}: -f FILE is required\n\n${help}`);
      return 2;
    }
    const sidecarMode = parseSidecarMode(values['sidecar-mode']);
    const labelsFile = values['namespace-labels'];
    const namespaces = staticNamespaces(
      labelsFile === '' ? {} : await readNamespaceLabelsFile(labelsFile),
    );
    const policies = await loadPolicies(values.policies);
    const text = await readManifestText(values.filename);
    const documents = parseManifests(text, values.filename);
    return body({
      source: values.filename,
      defaultNamespace: values.namespace,
      sidecarMode,
      namespaces,
      policies,
      documents,
    });
  } catch (error) {
    return reportFailure(verb, help, error);
  }
}

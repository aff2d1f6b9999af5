import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { Document, parse } from 'yaml';
import { parseManifests } from '../../src/cli/documents.ts';
import { MANIFEST_YAML_OPTIONS } from '../../src/cli/manifest-yaml.ts';
import { injectManifests } from '../../src/cli/manifests.ts';
import { uninjectManifests } from '../../src/cli/uninject-manifests.ts';
import { staticNamespaces } from '../../src/kube/static-namespaces.ts';
import { findPodTemplate } from '../../src/inject/workloads.ts';
import { isJsonObject } from '../../src/json.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { checkPod } from '../fixtures/check-pod.ts';
import { CORPUS_DIR, REPO_ROOT, corpusFiles } from '../fixtures/corpus.ts';
import { KUBECTL_SKIP, kubectlRead, withInjection } from '../fixtures/kubectl-read.ts';

const REQUEST = {
  'tandem.dev/inject': 'log-forwarder, redis-ambassador, metrics-adapter',
  'redis-ambassador.tandem.dev/upstreams': 'redis-0.cache:6379,redis-1.cache:6379',
  // Many corpus pods are Redis servers on 6379 themselves: tandem denies a sidecar on a
  // port the pod already uses, so the ambassador listens elsewhere here.
  'redis-ambassador.tandem.dev/listenPort': '16379',
  'log-forwarder.tandem.dev/host': 'fluentd.logging.svc.cluster.local',
};

// A hostNetwork pod may only ask for what supports it: of the built-ins, log-forwarder.
const HOST_NETWORK_REQUEST = {
  'tandem.dev/inject': 'log-forwarder',
  'log-forwarder.tandem.dev/host': 'fluentd.logging.svc.cluster.local',
};

/** requestAll adds the built-in policies to the pod template of `text` (one document). */
function requestAll(text: string): string {
  return parseManifests(text, 'corpus')
    .map(({ document, value, text: source }) => {
      const template = isJsonObject(value) ? findPodTemplate(value) : undefined;
      if (!isJsonObject(value) || template === undefined) return source;
      const metadata = isJsonObject(template.metadata) ? template.metadata : {};
      const annotations = isJsonObject(metadata.annotations) ? metadata.annotations : {};
      const hostNetwork = isJsonObject(template.spec) && template.spec.hostNetwork === true;
      const request = hostNetwork ? HOST_NETWORK_REQUEST : REQUEST;
      template.metadata = { ...metadata, annotations: { ...annotations, ...request } };
      // Written as tandem writes manifests, so that kubectl reads what tandem reads.
      const requested = new Document(value, MANIFEST_YAML_OPTIONS);
      requested.commentBefore = document.commentBefore;
      return requested.toString();
    })
    .join('');
}

/**
 * podsOf returns each pod template as the API server will see it: a StatefulSet's
 * controller adds one persistentVolumeClaim volume per volumeClaimTemplate, so those are
 * added here before mounts are checked.
 */
function podsOf(texts: readonly string[]): V1Pod[] {
  return texts.flatMap((text) =>
    parseManifests(text, 'pods').flatMap(({ value }) => {
      const template = isJsonObject(value) ? findPodTemplate(value) : undefined;
      if (!isJsonObject(value) || template === undefined) return [];
      const pod = structuredClone(template) as unknown as V1Pod;
      const spec = isJsonObject(value.spec) ? value.spec : {};
      const claims = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [];
      for (const claim of claims) {
        const meta = isJsonObject(claim) && isJsonObject(claim.metadata) ? claim.metadata : {};
        if (typeof meta.name !== 'string' || pod.spec === undefined) continue;
        const volume = { name: meta.name, persistentVolumeClaim: { claimName: meta.name } };
        pod.spec.volumes = [...(pod.spec.volumes ?? []), volume];
      }
      return [pod];
    }),
  );
}

/** newProblems is what injection broke: problems of the result that the input lacked. */
function newProblems(before: V1Pod | undefined, after: V1Pod): string[] {
  const old = new Set(before === undefined ? [] : checkPod(before));
  return checkPod(after).filter((problem) => !old.has(problem));
}

const files = corpusFiles();
if (files.length === 0) {
  t.plan(0, `no corpus at ${CORPUS_DIR} (it sits beside the repo only in CI and development)`);
} else {
  const policies = await loadPolicies(path.join(REPO_ROOT, 'policies'));
  const run = (text: string, source: string, sidecarMode: 'native' | 'classic') =>
    injectManifests(parseManifests(text, source), policies, {
      source,
      defaultNamespace: 'default',
      sidecarMode,
      namespaces: staticNamespaces({}),
    });

  t.test(
    `corpus manifests that ask for nothing pass through untouched (${files.length} files)`,
    (t) => {
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        const result = run(text, file, 'native');
        t.strictSame(result.denials, [], path.basename(file));
        t.equal(result.injected, 0, path.basename(file));
        t.equal(result.documents.join(''), text, path.basename(file));
      }
      t.end();
    },
  );

  for (const mode of ['native', 'classic'] as const) {
    t.test(`corpus manifests with all three built-ins come out valid and stable (${mode})`, (t) => {
      let injected = 0;
      for (const file of files) {
        const name = path.basename(file);
        const input = requestAll(readFileSync(file, 'utf8'));
        const first = run(input, file, mode);
        t.strictSame(first.denials, [], `${name}: not denied`);
        injected += first.injected;
        const before = podsOf([input]);
        podsOf(first.documents).forEach((pod, i) => {
          t.strictSame(newProblems(before[i], pod), [], `${name}: injection leaves the pod valid`);
        });
        const second = run(first.documents.join(''), file, mode);
        t.equal(second.injected, 0, `${name}: a second pass injects nothing`);
        t.strictSame(second.documents, first.documents, `${name}: a second pass changes nothing`);
      }
      t.equal(injected, files.length, 'every manifest holds one pod template, each injected');
      t.end();
    });
  }

  t.test(
    `uninject after inject gives back every corpus manifest, in both modes (${files.length} files)`,
    (t) => {
      let largest = { bytes: 0, withoutUndo: 0, file: '' };
      for (const file of files) {
        const name = path.basename(file);
        const input = requestAll(readFileSync(file, 'utf8'));
        const original = parseManifests(input, file).map(({ value }) => value);
        for (const mode of ['native', 'classic'] as const) {
          const injected = run(input, file, mode).documents.join('');
          for (const status of injected.matchAll(/tandem\.dev\/status: (.*)$/gm)) {
            const value = String(parse(status[1] ?? '""'));
            const bytes = Buffer.byteLength(value);
            const listed = JSON.parse(value) as Record<string, unknown>;
            delete listed.undo;
            const withoutUndo = Buffer.byteLength(JSON.stringify(listed));
            if (bytes > largest.bytes) largest = { bytes, withoutUndo, file: `${name} (${mode})` };
          }
          const back = uninjectManifests(parseManifests(injected, file), file);
          t.strictSame([back.problems, back.warnings], [[], []], `${name} (${mode}): no problem`);
          const values = parseManifests(back.documents.join(''), file).map(({ value }) => value);
          t.strictSame(values, original, `${name} (${mode}): the manifest as it was`);
        }
      }
      t.comment(
        `largest tandem.dev/status: ${largest.bytes} bytes (${largest.withoutUndo} without the undo record), ${largest.file}`,
      );
      t.end();
    },
  );

  t.test(
    `kubectl reads every injected corpus manifest as the input plus the injection (${files.length} files)`,
    { skip: KUBECTL_SKIP },
    async (t) => {
      // One kubectl process per side for all files: a process each would take minutes.
      const inputs = files.map((file) => requestAll(readFileSync(file, 'utf8')));
      const outputs = inputs.map((input, i) => {
        const result = run(input, files[i] ?? '', 'native');
        t.strictSame(result.denials, [], `${path.basename(files[i] ?? '')}: not denied`);
        return result.documents.join('');
      });
      const stream = (texts: string[]) =>
        texts.map((text) => (text.endsWith('\n') ? text : `${text}\n`)).join('---\n');
      const read = await kubectlRead(stream(inputs));
      const expected = read.map((object) => withInjection(object, policies));
      const actual = await kubectlRead(stream(outputs));
      t.equal(actual.length, files.length, 'one object per file');
      t.strictSame(actual, expected);
    },
  );
}

import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Operation } from 'fast-json-patch';
import { parse } from 'yaml';
import { admitPod } from '../../src/admission/pod.ts';
import type { AdmissionAnswer } from '../../src/admission/response.ts';
import { parseReview } from '../../src/admission/review.ts';
import { parseManifests } from '../../src/cli/documents.ts';
import { injectManifests } from '../../src/cli/manifests.ts';
import {
  admitWithEngine,
  readCase,
  runCase,
  type CaseAdmission,
  type CaseSettings,
} from '../../src/cli/test-case.ts';
import { DENIAL_CODES } from '../../src/denial.ts';
import type { InjectResult } from '../../src/inject/types.ts';
import { uninjectPod } from '../../src/inject/uninject.ts';
import { readPolicyFiles } from '../../src/policy/load.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { reviewFor } from '../fixtures/reviews/reviews.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

// Golden cases, as Istio's injector keeps them: every folder under fixtures/golden is a
// case, found by itself. They are `tandem test` cases (src/cli/test-case.ts has the
// format), run here by the real `tandem test`, so the format policy authors use is proved
// on them; UPDATE_GOLDEN=1 runs it with --update. This file adds what a policy author's
// case does not check: every case gets the same answer through the webhook's handler
// (admitPod, from a parsed AdmissionReview), as Istio's goldens run through both
// kube-inject and the webhook; the expected pods pass API validation; a second injection
// adds nothing on either path; and `tandem inject` writes the same pod.

const GOLDEN = path.join('test', 'fixtures', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';
const cases = readdirSync(path.join(REPO_ROOT, GOLDEN), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

t.test('tandem test passes every golden case, and lists each one', (t) => {
  const { code, stdout, stderr } = runTandem(['test', GOLDEN, ...(update ? ['--update'] : [])]);
  t.strictSame({ code, stderr }, { code: 0, stderr: '' }, JSON.stringify(stdout));
  const reported = [...stdout.matchAll(/^(PASS|UPDATED) (.*)$/gm)].map((m) => m[2]);
  t.strictSame(
    reported,
    cases.map((name) => path.join(GOLDEN, name)),
  );
  t.match(stdout, new RegExp(`^${cases.length} cases: `, 'm'));
  t.end();
});

const policyFiles = (await readPolicyFiles(path.join(REPO_ROOT, 'policies'))).files;
const settings: CaseSettings = { policyFiles, sidecarMode: 'native' };

/** answerAsResult reads the webhook's answer back as the engine's result, to compare alike. */
function answerAsResult(answer: AdmissionAnswer): InjectResult {
  const warnings = answer.warnings ?? [];
  if (!answer.allowed) {
    const { status } = answer;
    if (status?.code !== 403) throw new Error(`errored: ${status?.message ?? ''}`);
    const code = DENIAL_CODES.find((known) => known === status.details?.causes[0]?.reason);
    if (code === undefined) throw new Error(`a denial without a known code: ${status.message}`);
    return { outcome: 'denied', code, reason: status.message, warnings };
  }
  if (answer.patch === undefined) return { outcome: 'unchanged', warnings };
  const patch = JSON.parse(Buffer.from(answer.patch, 'base64').toString('utf8')) as Operation[];
  const names = answer.auditAnnotations?.['injected-policies'] ?? '';
  const injected = names
    .split(',')
    .map((name) => ({ name, hash: '', reason: 'annotation' as const }));
  return { outcome: 'patched', patch, injected, warnings };
}

/**
 * throughWebhook sends a case's pod to the webhook's handler as the API server would: an
 * AdmissionReview, parsed from JSON, answered by admitPod with the case's namespace and
 * sidecar settings.
 */
function throughWebhook(admission: CaseAdmission): InjectResult {
  const body = reviewFor(admission.pod, { namespace: admission.namespace });
  const parsed = parseReview(JSON.parse(JSON.stringify(body)));
  if (!parsed.ok) throw new Error(parsed.message);
  const { answer } = admitPod(parsed.review.request, {
    getPolicies: () => admission.policies,
    namespaces: admission.namespaces,
    sidecars: admission.sidecars,
  });
  return answerAsResult(answer);
}

t.test('every golden case gets the same answer through the webhook (admitPod)', (t) => {
  for (const name of cases) {
    const dir = path.join(REPO_ROOT, GOLDEN, name);
    const result = runCase(dir, name, { ...settings, admit: throughWebhook }, false);
    t.strictSame(result.problems, [], name);
  }
  t.end();
});

for (const name of cases) {
  const dir = path.join(REPO_ROOT, GOLDEN, name);
  const expectedFile = path.join(dir, 'expected.yaml');
  if (!existsSync(expectedFile)) continue;
  t.test(`${name}: the expected pod is valid, stays as it is, and tandem inject writes it`, (t) => {
    const problems: string[] = [];
    const read = readCase(dir, settings, problems);
    if (read === undefined) throw new Error(problems.join('\n'));
    const { admission } = read;
    const inputText = readFileSync(path.join(dir, 'pod.yaml'), 'utf8');
    const injected = parse(readFileSync(expectedFile, 'utf8')) as V1Pod;
    t.strictSame(checkPod(injected), [], 'the patched pod passes API server validation');
    const again = { ...admission, pod: injected };
    t.strictSame(
      admitWithEngine(again),
      { outcome: 'unchanged', warnings: [] },
      'a second run adds nothing',
    );
    t.strictSame(
      throughWebhook(again),
      { outcome: 'unchanged', warnings: [] },
      'a reinvocation of the webhook adds nothing',
    );
    const offline = injectManifests(parseManifests(inputText, 'pod.yaml'), admission.policies, {
      source: 'pod.yaml',
      defaultNamespace: admission.namespace,
      sidecarMode: admission.sidecars.sidecarMode,
      namespaces: admission.namespaces,
    });
    t.strictSame(offline.denials, []);
    t.strictSame(
      parse(offline.documents.join('---\n')),
      injected,
      'tandem inject writes the same pod',
    );
    // A pod that came with a status of its own (forged-status) gets back none: uninject
    // takes out all tandem's status says, the status included.
    const pod = parse(inputText) as V1Pod;
    if (pod.metadata?.annotations?.['tandem.dev/status'] === undefined) {
      const back = uninjectPod(injected);
      t.equal(back.outcome, 'patched');
      const patch = back.outcome === 'patched' ? back.patch : [];
      t.strictSame(applyPatch(injected, patch), pod, 'uninject gives back the input pod');
    }
    t.end();
  });
}

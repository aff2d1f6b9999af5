import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { parseManifests } from '../../src/cli/documents.ts';
import { injectManifests } from '../../src/cli/manifests.ts';
import { staticNamespaces } from '../../src/kube/static-namespaces.ts';
import { injectPod } from '../../src/inject/engine.ts';
import type { InjectContext } from '../../src/inject/types.ts';
import { uninjectPod } from '../../src/inject/uninject.ts';
import { buildPolicySet, type PolicySet } from '../../src/policy/compile.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { context, policySet } from '../fixtures/policies.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

// Golden cases, as Istio's injector keeps them: every folder under fixtures/golden is a
// case, found by itself. They are `tandem test` cases (src/cli/test-case.ts has the
// format), run here by the real `tandem test`, so the format policy authors use is proved
// on them; UPDATE_GOLDEN=1 runs it with --update. This file adds what a policy author's
// case does not check: the expected pods pass API validation, a second injection adds
// nothing, and `tandem inject` writes the same pod.
t.setTimeout(600_000);

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

const builtins = await loadPolicies(path.join(REPO_ROOT, 'policies'));

function policiesFor(dir: string): PolicySet {
  const file = path.join(dir, 'policies.yaml');
  if (!existsSync(file)) return builtins;
  const own = policySet(readFileSync(file, 'utf8'));
  return buildPolicySet([...builtins.byName.values(), ...own.byName.values()]);
}

for (const name of cases) {
  const dir = path.join(REPO_ROOT, GOLDEN, name);
  const expectedFile = path.join(dir, 'expected.yaml');
  if (!existsSync(expectedFile)) continue;
  t.test(`${name}: the expected pod is valid, stays as it is, and tandem inject writes it`, (t) => {
    const policies = policiesFor(dir);
    const inputText = readFileSync(path.join(dir, 'pod.yaml'), 'utf8');
    const pod = parse(inputText) as V1Pod;
    const contextFile = path.join(dir, 'context.yaml');
    const overrides = existsSync(contextFile)
      ? (parse(readFileSync(contextFile, 'utf8')) as Partial<InjectContext>)
      : {};
    const namespace = pod.metadata?.namespace ?? 'default';
    const ctx = context({
      namespace,
      namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
      ...overrides,
    });
    const injected = parse(readFileSync(expectedFile, 'utf8')) as V1Pod;
    t.strictSame(checkPod(injected), [], 'the patched pod passes API server validation');
    t.strictSame(
      injectPod(injected, policies, ctx),
      { outcome: 'unchanged', warnings: [] },
      'a second run adds nothing',
    );
    const offline = injectManifests(parseManifests(inputText, 'pod.yaml'), policies, {
      source: 'pod.yaml',
      defaultNamespace: namespace,
      sidecarMode: ctx.sidecarMode,
      namespaces: staticNamespaces({}),
    });
    t.strictSame(offline.denials, []);
    t.strictSame(
      parse(offline.documents.join('---\n')),
      injected,
      'tandem inject writes the same pod',
    );
    // A pod that came with a status of its own (forged-status) gets back none: uninject
    // takes out all tandem's status says, the status included.
    if (pod.metadata?.annotations?.['tandem.dev/status'] === undefined) {
      const back = uninjectPod(injected);
      t.equal(back.outcome, 'patched');
      const patch = back.outcome === 'patched' ? back.patch : [];
      t.strictSame(applyPatch(injected, patch), pod, 'uninject gives back the input pod');
    }
    t.end();
  });
}

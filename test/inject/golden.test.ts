import t from 'tap';
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { parseManifests } from '../../src/cli/documents.ts';
import { injectManifests } from '../../src/cli/manifests.ts';
import { staticNamespaces } from '../../src/kube/static-namespaces.ts';
import { injectPod } from '../../src/inject/engine.ts';
import type { InjectContext } from '../../src/inject/types.ts';
import { buildPolicySet, type PolicySet } from '../../src/policy/compile.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { context, policySet } from '../fixtures/policies.ts';

// Golden cases, as Istio's injector keeps them: every folder under fixtures/golden is a
// case, found by itself. UPDATE_GOLDEN=1 rewrites the expected files.
const GOLDEN = path.join(REPO_ROOT, 'test', 'fixtures', 'golden');
const INPUT = 'pod.yaml';
const CONTEXT = 'context.yaml';
// Policies of the case's own, beside the built-ins, for a rule no built-in policy shows.
const POLICIES = 'policies.yaml';
const EXPECTED_POD = 'expected.yaml';
const EXPECTED_PATCH = 'expected.patch.json';
// A case whose pod is denied or left alone holds the engine's whole answer instead.
const EXPECTED_RESULT = 'expected.result.json';
// Optional: a patched case whose point is a warning (a forged status) pins its warnings.
const EXPECTED_WARNINGS = 'expected.warnings.json';
const KNOWN = new Set([
  INPUT,
  CONTEXT,
  POLICIES,
  EXPECTED_POD,
  EXPECTED_PATCH,
  EXPECTED_RESULT,
  EXPECTED_WARNINGS,
]);
const update = process.env.UPDATE_GOLDEN === '1';

const builtins = await loadPolicies(path.join(REPO_ROOT, 'policies'));

function policiesFor(dir: string): PolicySet {
  const file = path.join(dir, POLICIES);
  if (!existsSync(file)) return builtins;
  const own = policySet(readFileSync(file, 'utf8'));
  return buildPolicySet([...builtins.byName.values(), ...own.byName.values()]);
}
const cases = readdirSync(GOLDEN, { withFileTypes: true }).filter((entry) => entry.isDirectory());

t.test('every golden folder is a case, and every file in it is used', (t) => {
  for (const entry of cases) {
    const files = readdirSync(path.join(GOLDEN, entry.name));
    t.ok(files.includes(INPUT), `${entry.name} has ${INPUT}`);
    t.strictSame(
      files.filter((file) => !KNOWN.has(file)),
      [],
      `${entry.name} has no stray files`,
    );
  }
  t.end();
});

for (const entry of cases) {
  const dir = path.join(GOLDEN, entry.name);
  if (!existsSync(path.join(dir, INPUT))) continue;
  t.test(entry.name, (t) => {
    const policies = policiesFor(dir);
    const inputText = readFileSync(path.join(dir, INPUT), 'utf8');
    const pod = parse(inputText) as V1Pod;
    const contextFile = path.join(dir, CONTEXT);
    const overrides = existsSync(contextFile)
      ? (parse(readFileSync(contextFile, 'utf8')) as Partial<InjectContext>)
      : {};
    const namespace = pod.metadata?.namespace ?? 'default';
    const ctx = context({
      namespace,
      namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
      ...overrides,
    });
    const result = injectPod(pod, policies, ctx);
    const resultFile = path.join(dir, EXPECTED_RESULT);
    if (result.outcome !== 'patched' || existsSync(resultFile)) {
      if (update) writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
      t.strictSame(
        result,
        JSON.parse(readFileSync(resultFile, 'utf8')),
        'the answer is the expected one',
      );
      return t.end();
    }
    const injected = applyPatch(pod, result.patch);
    const warningsFile = path.join(dir, EXPECTED_WARNINGS);
    if (update) {
      writeFileSync(path.join(dir, EXPECTED_PATCH), `${JSON.stringify(result.patch, null, 2)}\n`);
      writeFileSync(path.join(dir, EXPECTED_POD), stringify(injected));
      if (existsSync(warningsFile)) {
        writeFileSync(warningsFile, `${JSON.stringify(result.warnings, null, 2)}\n`);
      }
    }
    if (existsSync(warningsFile)) {
      t.strictSame(
        result.warnings,
        JSON.parse(readFileSync(warningsFile, 'utf8')),
        'the warnings are the expected ones',
      );
    }
    t.strictSame(
      result.patch,
      JSON.parse(readFileSync(path.join(dir, EXPECTED_PATCH), 'utf8')),
      'the patch is the expected one',
    );
    t.strictSame(
      injected,
      parse(readFileSync(path.join(dir, EXPECTED_POD), 'utf8')),
      'the patched pod is the expected one',
    );
    t.strictSame(checkPod(injected), [], 'the patched pod passes API server validation');
    t.strictSame(
      injectPod(injected, policies, ctx),
      { outcome: 'unchanged', warnings: [] },
      'a second run adds nothing',
    );

    // The offline path (`tandem inject`) gives the same pod as the webhook path.
    const offline = injectManifests(parseManifests(inputText, INPUT), policies, {
      source: INPUT,
      defaultNamespace: namespace,
      sidecarMode: ctx.sidecarMode,
      namespaces: staticNamespaces({}),
    });
    t.strictSame(offline.denials, []);
    t.strictSame(parse(offline.documents.join('---\n')), injected, 'tandem inject writes the same pod');
    t.end();
  });
}

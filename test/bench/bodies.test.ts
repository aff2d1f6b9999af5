import t, { type Test } from 'tap';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import {
  benchBodies,
  manyContainersBody,
  singlePolicyBody,
  type BenchBody,
} from '../../bench/bodies.ts';
import { writeManyPolicies } from '../../bench/many-policies.ts';
import { isPodCreate } from '../../src/admission/pod.ts';
import { parseReview } from '../../src/admission/review.ts';
import { injectPod } from '../../src/inject/engine.ts';
import type { InjectContext } from '../../src/inject/types.ts';
import type { PolicySet } from '../../src/policy/compile.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';

const POLICIES_DIR = path.join(REPO_ROOT, 'policies');

// What `tandem serve --no-cluster` gives the engine for the bench's namespace.
const CONTEXT: InjectContext = {
  namespace: 'shop',
  namespaceLabels: { 'kubernetes.io/metadata.name': 'shop' },
  sidecarMode: 'native',
  nativeSidecarsSupported: true,
};

const ALL_THREE = ['log-forwarder', 'redis-ambassador', 'metrics-adapter'];

/** podOf reads the body as the webhook does, failing the test where it would not. */
function podOf(t: Test, body: BenchBody): V1Pod {
  const parsed = parseReview(JSON.parse(JSON.stringify(body.review)));
  if (!parsed.ok) throw new Error(`${body.name}: ${parsed.message}`);
  t.ok(isPodCreate(parsed.review.request), 'is a pod CREATE');
  t.equal(parsed.review.request.uid !== '', true, 'has a uid');
  return parsed.review.request.object as unknown as V1Pod;
}

/** expectPatched runs the engine on the body's pod and checks the patch is real. */
function expectPatched(t: Test, body: BenchBody, policies: PolicySet): void {
  const pod = podOf(t, body);
  const result = injectPod(pod, policies, CONTEXT);
  if (result.outcome !== 'patched') {
    t.fail(`${body.name} is ${result.outcome}: ${'reason' in result ? result.reason : ''}`);
    return;
  }
  const expected = body.request === 'all-three' ? ALL_THREE : [body.request];
  t.strictSame(
    result.injected.map((p) => p.name),
    expected,
    'injects what the body asks for',
  );
  t.strictSame(checkPod(applyPatch(pod, result.patch)), [], 'the patched pod is a valid pod');
}

t.test('every bench body is a pod CREATE review that the built-in policies patch', async (t) => {
  const policies = await loadPolicies(POLICIES_DIR);
  for (const body of [...benchBodies(), manyContainersBody()]) {
    t.test(body.name, (t) => {
      expectPatched(t, body, policies);
      t.end();
    });
  }
});

t.test('the bodies have the sizes the issue names', (t) => {
  const bytes = (body: BenchBody): number => Buffer.byteLength(JSON.stringify(body.review));
  // About 2 KB, 10 KB and 60 KB: the envelope and the apiserver's defaults alone are
  // over 2 KB, so the small bound is loose.
  t.ok(bytes(singlePolicyBody('small')) < 4 * 1024, 'small is a few KB');
  const medium = bytes(singlePolicyBody('medium'));
  t.ok(medium > 8 * 1024 && medium < 12 * 1024, `medium is about 10 KB (${medium})`);
  const large = bytes(singlePolicyBody('large'));
  t.ok(large > 50 * 1024 && large < 70 * 1024, `large is about 60 KB (${large})`);
  t.end();
});

t.test('with 1,000 policies loaded the medium body still gets its patch', async (t) => {
  const dir = await writeManyPolicies(POLICIES_DIR, 1000);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const policies = await loadPolicies(dir);
  t.equal(policies.byName.size, 1000, 'loads 1,000 policies');
  expectPatched(t, singlePolicyBody('medium'), policies);
});

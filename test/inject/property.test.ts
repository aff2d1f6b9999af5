import t from 'tap';
import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import type { V1Container } from '@kubernetes/client-node';
import { injectPod } from '../../src/inject/engine.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { arbitraryPod } from '../fixtures/arbitrary-pod.ts';
import { context, policySet } from '../fixtures/policies.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';

const policies = policySet(TEST_POLICIES);
const pods = arbitraryPod({
  policies: ['shipper', 'proxy'],
  annotations: { 'shipper.tandem.dev/dest': 'logs.example:24224' },
});
const modes = fc.constantFrom('native' as const, 'classic' as const);

/** withoutAdditions strips what tandem may append to an app container. */
function authored(container: V1Container, original: V1Container): V1Container {
  const copy = { ...container };
  const env = container.env?.slice(0, original.env?.length ?? 0);
  const mounts = container.volumeMounts?.slice(0, original.volumeMounts?.length ?? 0);
  if (original.env === undefined) delete copy.env;
  else copy.env = env ?? [];
  if (original.volumeMounts === undefined) delete copy.volumeMounts;
  else copy.volumeMounts = mounts ?? [];
  return copy;
}

t.test(
  'for any pod: the patch applies, the result is valid, and a second run adds nothing',
  (t) => {
    fc.assert(
      fc.property(pods, modes, (pod, sidecarMode) => {
        const ctx = context({ sidecarMode });
        const result = injectPod(pod, policies, ctx);
        if (result.outcome === 'denied') throw new Error(result.reason);
        if (result.outcome === 'unchanged') return;
        const out = applyPatch(pod, result.patch);
        const problems = checkPod(out);
        if (problems.length > 0) throw new Error(problems.join('\n'));
        const again = injectPod(out, policies, ctx);
        if (again.outcome !== 'unchanged') throw new Error(`second run: ${JSON.stringify(again)}`);
      }),
      { numRuns: 1000 },
    );
    t.pass('held for 1000 generated pods');
    t.end();
  },
);

t.test("for any pod: the author's containers change only by appended mounts and env", (t) => {
  fc.assert(
    fc.property(pods, modes, (pod, sidecarMode) => {
      const result = injectPod(pod, policies, context({ sidecarMode }));
      if (result.outcome !== 'patched') return;
      const out = applyPatch(pod, result.patch);
      const before = pod.spec?.containers ?? [];
      const after = out.spec?.containers ?? [];
      before.forEach((original, i) => {
        const now = after[i];
        if (now === undefined) throw new Error(`container ${original.name} disappeared`);
        deepStrictEqual(authored(now, original), original);
      });
      const initsBefore = pod.spec?.initContainers ?? [];
      const initsAfter = (out.spec?.initContainers ?? []).filter((c) =>
        initsBefore.some((o) => o.name === c.name),
      );
      // init containers the author wrote keep their order and content
      deepStrictEqual(initsAfter, initsBefore);
    }),
    { numRuns: 200 },
  );
  t.pass('held for 200 generated pods');
  t.end();
});

t.test('for any pod: injection is deterministic', (t) => {
  fc.assert(
    fc.property(pods, (pod) => {
      const ctx = context();
      deepStrictEqual(
        injectPod(structuredClone(pod), policies, ctx),
        injectPod(structuredClone(pod), policies, ctx),
      );
    }),
    { numRuns: 100 },
  );
  t.pass('held for 100 generated pods');
  t.end();
});

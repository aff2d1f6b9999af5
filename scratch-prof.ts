import { injectPod } from './src/inject/engine.ts';
import { context, policySet } from './test/fixtures/policies.ts';
import { TEST_POLICIES } from './test/fixtures/test-policies.ts';
import { appPod } from './test/fixtures/pods.ts';
const policies = policySet(TEST_POLICIES);
const SHIPPER = { 'tandem.dev/inject': 'shipper', 'shipper.tandem.dev/dest': 'logs.example:24224', 'tandem.dev/target-containers': 'c0' };
for (const n of [6000, 12000, 24000, 6000, 12000, 24000]) {
  const added = Array.from({ length: n / 4 }, (_, i) => `t${i}`);
  const pod = appPod({ ...SHIPPER, 'tandem.dev/status': JSON.stringify({ policies: [], containers: added, volumes: [] }) });
  pod.spec!.containers = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'app:1' }));
  pod.spec!.initContainers = added.map((name) => ({ name, image: 'earlier:1' }));
  let best = Infinity;
  for (let i = 0; i < 5; i++) { const s = performance.now(); injectPod(pod, policies, context()); best = Math.min(best, performance.now() - s); }
  console.log(n, best.toFixed(1));
}

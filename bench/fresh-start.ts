/**
 * What a fresh process pays for its first reviews: loads the built-in policies (`3`) or
 * 1,000 (bench/many-policies.ts), then admits the medium body in batches of 250 from the
 * start and prints each batch's CPU µs per review. The first batches carry the JIT's
 * work and the scavenges of what loading left in the young generation; run it for 3 and
 * for 1,000 to see that the difference is in those, not in the steady cost.
 *
 *   flock /tmp/tandem-bench.lock node bench/fresh-start.ts 3|1000
 */
import { rm } from 'node:fs/promises';
import { admitPod } from '../src/admission/pod.ts';
import { parseReview, type AdmissionRequest } from '../src/admission/review.ts';
import { staticNamespaces } from '../src/kube/static-namespaces.ts';
import { loadPolicies } from '../src/policy/load.ts';
import { ASSUMED_SUPPORT, decideSidecars } from '../src/sidecar-mode.ts';
import { singlePolicyBody } from './bodies.ts';
import { writeManyPolicies } from './many-policies.ts';

const BATCHES = 12;
const BATCH = 250;
const CHUNK = 10;

const count = Number(process.argv[2] ?? '3');
const builtins = new URL('../policies/', import.meta.url).pathname;
const dir = count <= 3 ? builtins : await writeManyPolicies(builtins, count);
const set = await loadPolicies(dir);
if (dir !== builtins) await rm(dir, { recursive: true, force: true });
const env = {
  getPolicies: () => set,
  namespaces: staticNamespaces({ shop: {} }),
  sidecars: decideSidecars('auto', ASSUMED_SUPPORT),
};
const text = JSON.stringify(singlePolicyBody('medium').review);

function review(): AdmissionRequest {
  const parsed = parseReview(JSON.parse(text));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.review.request;
}

const perBatch: string[] = [];
for (let b = 0; b < BATCHES; b += 1) {
  let micros = 0;
  for (let c = 0; c < BATCH / CHUNK; c += 1) {
    const requests = Array.from({ length: CHUNK }, review);
    const before = process.cpuUsage();
    for (const request of requests) admitPod(request, env);
    const used = process.cpuUsage(before);
    micros += used.user + used.system;
  }
  perBatch.push((micros / BATCH).toFixed(0));
}
console.log(
  `${set.byName.size} policies, µs per review, batches of ${BATCH}: ${perBatch.join(' ')}`,
);

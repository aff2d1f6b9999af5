/**
 * The engine's miss path in one process: `admitPod` over pre-parsed reviews of pods it has
 * not seen, CPU time per review from `process.cpuUsage`, so another process's load
 * stretches the wall clock but hardly the figure. Each case is a policy directory and a
 * body; every review in a batch is a distinct pod (its own generateName and `pod-template-hash`
 * label, and with `--fresh-params` its own param value, so the render cache misses too).
 * Cases alternate batch by batch and the p10 and median of the batches are printed.
 *
 *   node bench/engine-loop.ts [--batches N] [--size N] [--fresh-params] [--case NAME ...]
 *                             [--compare DIR]
 *
 * Cases: `medium-3` and `medium-1000` (the medium body, log-forwarder, with the built-in
 * policies and with 1,000), `many-3` (the 50-container pod, redis-ambassador), `small-3`.
 * `--compare DIR` runs each case also on the `src/` of another checkout (DIR must sit
 * inside this one, to find node_modules), batch by batch beside this one: a before and
 * after in one process, which the machine's load falls on alike.
 * Run under the bench lock: `flock /tmp/tandem-bench.lock node bench/engine-loop.ts`.
 */
import { parseArgs } from 'node:util';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AdmitEnv, PodAdmission } from '../src/admission/pod.ts';
import { parseReview, type AdmissionRequest } from '../src/admission/review.ts';
import { isJsonObject, type JsonObject } from '../src/json.ts';
import type { PolicySet } from '../src/policy/compile.ts';
import type * as StaticNamespaces from '../src/kube/static-namespaces.ts';
import type * as SidecarMode from '../src/sidecar-mode.ts';
import { manyContainersBody, singlePolicyBody, type BenchBody } from './bodies.ts';
import { writeManyPolicies } from './many-policies.ts';

const BUILTINS = new URL('../policies/', import.meta.url).pathname;

/** Engine is one version of the code: tandem's `src/` at `root`. */
interface Engine {
  readonly admitPod: (request: AdmissionRequest, env: AdmitEnv) => PodAdmission;
  readonly env: (policiesDir: string) => Promise<AdmitEnv>;
}

/** loadEngine imports the admission handler and what its env needs from `root`/src. */
async function loadEngine(root: string): Promise<Engine> {
  const from = async <T>(path: string): Promise<T> =>
    (await import(resolve(root, 'src', path))) as T;
  const pod = await from<{ admitPod: Engine['admitPod'] }>('admission/pod.ts');
  const { loadPolicies } = await from<{ loadPolicies: (dir: string) => Promise<PolicySet> }>(
    'policy/load.ts',
  );
  const namespaces = await from<typeof StaticNamespaces>('kube/static-namespaces.ts');
  const sidecars = await from<typeof SidecarMode>('sidecar-mode.ts');
  return {
    admitPod: pod.admitPod,
    env: async (dir) => {
      const set = await loadPolicies(dir);
      return {
        getPolicies: () => set,
        namespaces: namespaces.staticNamespaces({ shop: {} }),
        sidecars: sidecars.decideSidecars('auto', sidecars.ASSUMED_SUPPORT),
      };
    },
  };
}

interface Case {
  readonly name: string;
  readonly engine: Engine;
  readonly env: AdmitEnv;
  readonly body: BenchBody;
}

/** Pods says how to make the distinct reviews: the body's text, and whether params vary. */
interface Pods {
  readonly text: string;
  readonly freshParams: boolean;
}

/** distinctReviews makes reviews `from` to `from + count` of a batch, each a pod of its own. */
function distinctReviews(pods: Pods, from: number, count: number): AdmissionRequest[] {
  const { text, freshParams } = pods;
  const requests: AdmissionRequest[] = [];
  for (let i = from; i < from + count; i += 1) {
    const review = JSON.parse(text) as JsonObject;
    const request = review['request'];
    if (!isJsonObject(request) || !isJsonObject(request['object'])) throw new Error('no pod');
    const metadata = request['object']['metadata'];
    if (!isJsonObject(metadata)) throw new Error('no metadata');
    metadata['generateName'] = `cart-${i.toString(36)}-`;
    metadata['labels'] = { ...(metadata['labels'] as JsonObject), 'pod-template-hash': `h${i}` };
    if (freshParams) {
      const annotations = { ...(metadata['annotations'] as JsonObject) };
      if ('log-forwarder.tandem.dev/host' in annotations) {
        annotations['log-forwarder.tandem.dev/host'] = `fluentd-${i}.logging.svc`;
      }
      if ('redis-ambassador.tandem.dev/upstreams' in annotations) {
        annotations['redis-ambassador.tandem.dev/upstreams'] = `redis-${i}.cache:6379`;
      }
      metadata['annotations'] = annotations;
    }
    const parsed = parseReview(review);
    if (!parsed.ok) throw new Error(parsed.message);
    requests.push(parsed.review.request);
  }
  return requests;
}

// Reviews are made a few at a time, untimed, then admitted, timed: the heap then holds a
// few pods, as a server holds its in-flight ones. Made all at once, a batch's hundreds of
// pods were live through every scavenge, and GC took a third of the time measured.
const CHUNK = 16;

/** batch admits `size` distinct reviews (tagged `tag`) and returns the CPU µs per review. */
function batch(kase: Case, pods: Pods, size: number, tag: string): number {
  let micros = 0;
  for (let from = 0; from < size; from += CHUNK) {
    const requests = distinctReviews(pods, from, Math.min(CHUNK, size - from));
    for (const request of requests) withName(request, `${tag}-${from}`);
    const before = process.cpuUsage();
    for (const request of requests) {
      const admission = kase.engine.admitPod(request, kase.env);
      if (admission.result !== 'patched') throw new Error(`${kase.name}: ${admission.result}`);
    }
    const used = process.cpuUsage(before);
    micros += used.user + used.system;
  }
  return micros / size;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batches: { type: 'string', default: '20' },
      size: { type: 'string', default: '500' },
      'fresh-params': { type: 'boolean', default: false },
      case: { type: 'string', multiple: true },
      compare: { type: 'string' },
    },
  });
  const batches = Number(values.batches);
  const size = Number(values.size);
  const many = await writeManyPolicies(BUILTINS, 1000);
  const engines: [string, Engine][] = [['', await loadEngine(resolve(BUILTINS, '..'))]];
  if (values.compare !== undefined) engines.unshift(['old ', await loadEngine(values.compare)]);
  const all: Case[] = [];
  for (const [label, engine] of engines) {
    const three = await engine.env(BUILTINS);
    const thousand = await engine.env(many);
    all.push(
      { name: `${label}medium-3`, engine, env: three, body: singlePolicyBody('medium') },
      { name: `${label}medium-1000`, engine, env: thousand, body: singlePolicyBody('medium') },
      { name: `${label}many-3`, engine, env: three, body: manyContainersBody() },
      { name: `${label}small-3`, engine, env: three, body: singlePolicyBody('small') },
    );
  }
  await rm(many, { recursive: true, force: true });
  const wanted = (c: Case): boolean =>
    values.case === undefined || values.case.includes(c.name.replace(/^old /, ''));
  const cases = all.filter(wanted);
  const fresh = values['fresh-params'];
  const results = cases.map(() => [] as number[]);
  for (let b = 0; b <= batches; b += 1) {
    for (const [i, kase] of cases.entries()) {
      const pods = { text: JSON.stringify(kase.body.review), freshParams: fresh };
      const us = batch(kase, pods, size, String(b));
      if (b > 0) results[i]?.push(us); // batch 0 warms up
    }
  }
  for (const [i, kase] of cases.entries()) {
    const r = results[i] ?? [];
    console.log(
      `${kase.name.padEnd(16)} µs/review p10 ${quantile(r, 0.1).toFixed(1)}  median ${quantile(r, 0.5).toFixed(1)}  (${batches} batches of ${size}${fresh ? ', fresh params' : ''})`,
    );
  }
}

/** withName gives the pod a generateName no other batch or chunk used. */
function withName(request: AdmissionRequest, tag: string): void {
  const object = request.object;
  if (isJsonObject(object) && isJsonObject(object['metadata'])) {
    const generateName = object['metadata']['generateName'];
    if (typeof generateName === 'string') {
      object['metadata']['generateName'] = `${generateName}${tag}-`;
    }
  }
}

await main();

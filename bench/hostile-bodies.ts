/**
 * Hostile review bodies (issue 9, item 1): pod CREATEs whose annotations ask for as much
 * work as a pod's author can ask for. Each builds on the small bench pod, so everything
 * but the hostile part is what the apiserver really sends. `test/bench/hostile.test.ts`
 * checks each body's size and the answer the engine gives it.
 */
import type { JsonObject } from '../src/json.ts';
import { sizedBody } from './bodies.ts';

/** HostileBody is one hostile review and the answer tandem must give it. */
export interface HostileBody {
  readonly name: string;
  readonly review: JsonObject;
  /** expect is the outcome: a denial from a cap, or a patch that ignores the junk. */
  readonly expect: 'denied' | 'patched';
}

/** HOSTILE_BYTES is the size of the largest hostile review: 1.5 MiB. */
export const HOSTILE_BYTES = 1.5 * 1024 * 1024;

/** names is `count` distinct short names, comma-separated: `0,1,...,a,b,...`. */
function names(count: number, prefix = ''): string {
  return Array.from({ length: count }, (_, i) => `${prefix}${i.toString(36)}`).join(',');
}

/** smallPodReview is the small redis-ambassador review, with `change` applied to its pod. */
function smallPodReview(change: (pod: PodParts) => void): JsonObject {
  const review = sizedBody('small', 'redis-ambassador').review;
  const request = review['request'] as unknown as { object: PodParts };
  change(request.object);
  return review;
}

interface PodParts {
  metadata: { annotations: Record<string, string> };
  spec: { containers: JsonObject[]; initContainers?: JsonObject[] };
}

/**
 * annotationsBody is 1.5 MiB of hostile annotations at once: 60,000 requested policies,
 * 60,000 target containers, a status naming 40,000 containers, a 100,000-character
 * near-miss of a param pattern, and thousands of undeclared params, padded to size.
 */
function annotationsBody(): HostileBody {
  const review = smallPodReview((pod) => {
    const annotations = pod.metadata.annotations;
    annotations['tandem.dev/inject'] = names(60_000);
    annotations['tandem.dev/target-containers'] = names(60_000, 'c');
    annotations['tandem.dev/status'] = JSON.stringify({
      policies: [],
      containers: names(40_000, 't').split(','),
      volumes: [],
    });
    annotations['redis-ambassador.tandem.dev/upstreams'] = `${'a-'.repeat(50_000)}!`;
    // Each entry adds its key, its value and `"":"",` to the JSON text.
    let bytes = Buffer.byteLength(JSON.stringify(pod));
    for (let i = 0; bytes < HOSTILE_BYTES - 2048; i += 1) {
      const key = `redis-ambassador.tandem.dev/x${i}`;
      annotations[key] = 'v'.repeat(200);
      bytes += key.length + 200 + 6;
    }
  });
  return { name: '1.5 MiB of hostile annotations', review, expect: 'denied' };
}

/** injectNamesBody is the case: 60,000 names, 244 KiB, in tandem.dev/inject. */
function injectNamesBody(): HostileBody {
  const review = smallPodReview((pod) => {
    pod.metadata.annotations['tandem.dev/inject'] = names(60_000);
  });
  return { name: 'tandem.dev/inject of 60,000 names', review, expect: 'denied' };
}

/**
 * statusBody is a pod of 6,000 containers whose status lists 4,000 earlier sidecars it
 * really has, asking for the ambassador in 64 of them: a status near its cap, checked
 * against a long pod, and injected.
 */
function statusBody(): HostileBody {
  const review = smallPodReview((pod) => {
    const earlier = names(4000, 't').split(',');
    pod.metadata.annotations['tandem.dev/status'] = JSON.stringify({
      policies: [],
      containers: earlier,
      volumes: [],
    });
    const app = names(6000, 'c').split(',');
    pod.metadata.annotations['tandem.dev/target-containers'] = app.slice(-64).join(',');
    pod.spec.initContainers = earlier.map((name) => ({ name, image: 'earlier:1' }));
    pod.spec.containers = app.map((name) => ({ name, image: 'app:1' }));
  });
  return { name: 'status of 4,000 sidecars, 6,000 containers', review, expect: 'patched' };
}

/** unknownParamsBody is 6,000 undeclared params of the requested policy, under 256 KiB. */
function unknownParamsBody(): HostileBody {
  const review = smallPodReview((pod) => {
    for (let i = 0; i < 6000; i += 1) {
      pod.metadata.annotations[`redis-ambassador.tandem.dev/x${i}`] = 'v';
    }
  });
  return { name: '6,000 undeclared params', review, expect: 'patched' };
}

/** nearMissBody is an upstreams value just under its maxLength that fails at its end. */
function nearMissBody(): HostileBody {
  const review = smallPodReview((pod) => {
    pod.metadata.annotations['redis-ambassador.tandem.dev/upstreams'] = `${'a-'.repeat(1023)}!`;
  });
  return { name: 'param near-miss of 2,047 characters', review, expect: 'denied' };
}

/** hostileBodies lists every hostile review, the 1.5 MiB one first. */
export function hostileBodies(): HostileBody[] {
  return [annotationsBody(), injectNamesBody(), statusBody(), unknownParamsBody(), nearMissBody()];
}

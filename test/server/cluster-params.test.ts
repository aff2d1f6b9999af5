/**
 * Param values through the real `tandem serve` in cluster mode (issue 11 "set once, by the
 * admin", issue 12 item 4): a PolicyValues document beside the policies gives every pod
 * the admin's value, the namespace cache gives each namespace's annotations, and a change
 * to a namespace's annotation reaches the next review with no restart.
 */
import t from 'tap';
import type { Operation } from 'fast-json-patch';
import { GREETER_VALUES, greeterPolicy } from '../fixtures/greeter.ts';
import { applyPatch } from '../fixtures/check-pod.ts';
import { startClusterServe } from '../fixtures/kube/cluster-serve.ts';
import { sendReview } from '../fixtures/reviews/harness.ts';
import { reviewFor } from '../fixtures/reviews/reviews.ts';

// greeting: the admin's value, a namespace's or the pod's; audience: the admin's alone.
const GREETER = greeterPolicy({ audienceSetBy: 'cluster', accent: false });

const VALUES = GREETER_VALUES;

interface Answer {
  readonly allowed: boolean;
  readonly env: Record<string, string>;
  readonly message: string;
}

/** greet asks tandem to admit a pod of `namespace` that asks for the greeter. */
async function greet(
  server: { port: number; ca: string[] },
  namespace: string,
  annotations: Record<string, string> = {},
): Promise<Answer> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-',
      annotations: { 'tandem.dev/inject': 'greeter', ...annotations },
    },
    spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] },
  };
  const reply = await sendReview(server, reviewFor(pod, { namespace }));
  const { response } = JSON.parse(reply.text) as {
    response: { allowed: boolean; patch?: string; status?: { message: string } };
  };
  const patch = JSON.parse(
    response.patch === undefined ? '[]' : Buffer.from(response.patch, 'base64').toString(),
  ) as Operation[];
  const injected = applyPatch(pod, patch);
  const greeter = injected.spec?.initContainers?.find((c) => c.name === 'greeter');
  const env = Object.fromEntries((greeter?.env ?? []).map((e) => [e.name, e.value ?? '']));
  return { allowed: response.allowed, env, message: response.status?.message ?? '' };
}

t.test(
  'cluster mode: cluster values, per-namespace values, and a namespace change seen without a restart',
  async (t) => {
    // No watch scripted yet: the fake answers 503 and tandem retries it with backoff,
    // so the annotation change below arrives only once the test scripts it.
    const server = await startClusterServe(t, {
      versionFile: 'version-kind-1.35.json',
      namespaceList: 'namespace-list-params.json',
      policies: { 'greeter.yaml': GREETER, 'values.yaml': VALUES },
      watch: 'later',
    });
    const { fake } = server;

    const inDefault = await greet(server, 'default');
    t.strictSame(
      inDefault,
      { allowed: true, env: { GREETING: 'hello', AUDIENCE: 'everyone' }, message: '' },
      'a pod that only asks gets the cluster values',
    );
    const inShop = await greet(server, 'shop');
    t.strictSame(
      inShop.env,
      { GREETING: 'hej', AUDIENCE: 'everyone' },
      "the namespace's annotation wins over the cluster value",
    );
    const own = await greet(server, 'shop', { 'greeter.tandem.dev/greeting': 'hi' });
    t.strictSame(own.env, { GREETING: 'hi', AUDIENCE: 'everyone' }, "the pod's own wins");
    const locked = await greet(server, 'shop', { 'greeter.tandem.dev/audience': 'me' });
    t.strictSame(
      { allowed: locked.allowed, message: locked.message },
      {
        allowed: false,
        message:
          'annotation greeter.tandem.dev/audience sets param "audience" of policy "greeter", which only the cluster admin may set (setBy: cluster); remove it from the pod',
      },
      'a param only the admin sets is refused to the pod',
    );

    fake.script('watch', { events: 'watch-params.ndjson', then: 'hold' });
    let after = inShop;
    for (let tries = 0; tries < 120 && after.env['GREETING'] !== 'moin'; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await greet(server, 'shop');
    }
    t.strictSame(
      after.env,
      { GREETING: 'moin', AUDIENCE: 'everyone' },
      "the namespace's new annotation applies to the next pods, with no restart",
    );
  },
);

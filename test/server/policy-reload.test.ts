import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import {
  REPO_POLICIES,
  send,
  sendReview,
  startHarness,
  writeAtomicDir,
  type Harness,
} from '../fixtures/reviews/harness.ts';
import { readdir, readFile } from 'node:fs/promises';
import { reviewFor } from '../fixtures/reviews/reviews.ts';
import { ECHO_POLICY } from '../fixtures/echo-policy.ts';

// Line 6 holds the bad field, so the log must point there.
const BROKEN_POLICY = `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata:
  name: broken
spec:
  pattern: nonsense
  containers: []
`;

function echoPod(): Record<string, unknown> {
  return {
    metadata: { name: 'p', annotations: { 'tandem.dev/inject': 'echo' } },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
  };
}

/** Traffic sends reviews until stopped, at most 500, and counts what did not come back 200. */
function startTraffic(harness: Harness): {
  stop: () => Promise<{ failures: number; sent: number }>;
} {
  let stopped = false;
  let failures = 0;
  let sent = 0;
  const loop = (async () => {
    for (let i = 0; i < 500 && !stopped; i += 1) {
      sent += 1;
      try {
        const reply = await sendReview(harness, reviewFor(echoPod(), { uid: `traffic-${i}` }));
        if (reply.status !== 200) failures += 1;
      } catch {
        failures += 1;
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { failures, sent };
    },
  };
}

/** echoAllowed asks for the echo policy: patched once loaded, denied (unknown) before. */
async function echoAnswer(harness: Harness): Promise<Record<string, unknown>> {
  const reply = await sendReview(harness, reviewFor(echoPod()));
  return reply.json()['response'] as Record<string, unknown>;
}

async function waitFor(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 60; i += 1) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

async function metricsText(harness: Harness): Promise<string> {
  return (await send({ port: harness.port, ca: harness.ca, path: '/metrics' })).text;
}

t.test(
  'a good reload swaps the policies during traffic; a broken one keeps the last good set',
  async (t) => {
    const harness = await startHarness(t);
    t.match(
      await echoAnswer(harness),
      { allowed: false, status: { code: 403 } },
      'echo is unknown at first',
    );
    const traffic = startTraffic(harness);

    await writeFile(join(harness.policiesDir, 'echo.yaml'), ECHO_POLICY);
    t.ok(
      await waitFor(async () => (await echoAnswer(harness))['patchType'] === 'JSONPatch'),
      'the new policy is served without a restart',
    );
    t.match(await metricsText(harness), /tandem_policies_loaded 4\n/);

    await writeFile(join(harness.policiesDir, 'broken.yaml'), BROKEN_POLICY);
    t.ok(
      await waitFor(async () =>
        /tandem_policy_reloads_total\{outcome="failure"\} 1\n/.test(await metricsText(harness)),
      ),
      'the broken reload is counted',
    );
    t.match(
      await echoAnswer(harness),
      { allowed: true, patchType: 'JSONPatch' },
      'the last good set still serves',
    );
    t.match(await metricsText(harness), /tandem_policies_loaded 4\n/);
    const problem = harness.logs().find((line) => line['msg'] === 'policy reload: problem');
    t.match(
      problem,
      { file: /broken\.yaml$/, line: 6, fieldPath: /pattern/ },
      'each issue is logged with file and line',
    );

    const { failures, sent } = await traffic.stop();
    t.equal(failures, 0, `no review failed during the reloads (${sent} sent)`);

    await rm(join(harness.policiesDir, 'broken.yaml'));
    t.ok(
      await waitFor(async () =>
        /tandem_policy_reloads_total\{outcome="success"\} 2\n/.test(await metricsText(harness)),
      ),
      'fixing the directory reloads it again',
    );
  },
);

t.test('a ConfigMap symlink swap of the policies directory is picked up', async (t) => {
  const harness = await startHarness(t, { atomicPolicies: true });
  const files: Record<string, string> = {};
  for (const name of await readdir(REPO_POLICIES)) {
    files[name] = await readFile(join(REPO_POLICIES, name), 'utf8');
  }
  await writeAtomicDir(harness.policiesDir, { ...files, 'echo.yaml': ECHO_POLICY });
  t.ok(
    await waitFor(async () => (await echoAnswer(harness))['patchType'] === 'JSONPatch'),
    'the swapped-in policy is served',
  );
});

import { appendFile, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import {
  REPO_POLICIES,
  send,
  sendReview,
  startHarness,
  type Harness,
} from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';
import { ECHO_POLICY } from '../fixtures/echo-policy.ts';

// ECHO_POLICY + ECHO_APP_ENV is the same policy with app env: ECHO_POLICY alone is the
// valid first part of it, as a half-written file would be.
const ECHO_APP_ENV = `  appContainer:
    env:
      - {name: ECHO_ADDR, value: 'localhost:7'}
`;

function echoPod(): Record<string, unknown> {
  return {
    metadata: { name: 'p', annotations: { 'tandem.dev/inject': 'echo' } },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
  };
}

/** patchOf is the decoded JSON Patch of an answer, or '' when it has none. */
async function patchFor(harness: Harness, pod: unknown): Promise<string> {
  const reply = await sendReview(harness, reviewFor(pod));
  const response = reply.json()['response'] as { patch?: string };
  return response.patch === undefined ? '' : Buffer.from(response.patch, 'base64').toString();
}

async function metricsText(harness: Harness): Promise<string> {
  return (await send({ port: harness.port, ca: harness.ca, path: '/metrics' })).text;
}

async function waitFor(check: () => Promise<boolean>, tries = 100): Promise<boolean> {
  for (let i = 0; i < tries; i += 1) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

function reloads(outcome: string, count: number): RegExp {
  return new RegExp(`tandem_policy_reloads_total\\{outcome="${outcome}"\\} ${count}\\n`);
}

async function waitForReloads(harness: Harness, outcome: string, count: number): Promise<boolean> {
  return waitFor(async () => reloads(outcome, count).test(await metricsText(harness)));
}

/** redisServed: the ambassador is still injected, so its policy is still loaded. */
async function redisServed(harness: Harness): Promise<boolean> {
  return (await patchFor(harness, redisPod())).includes('REDIS_AMBASSADOR_ADDR');
}

t.test('a policy file truncated to 0 bytes is a failed reload that keeps its policy', async (t) => {
  const harness = await startHarness(t);
  await writeFile(join(harness.policiesDir, 'redis-ambassador.yaml'), '');
  t.ok(await waitForReloads(harness, 'failure', 1), 'the reload is counted as failed');
  t.ok(await redisServed(harness), 'the truncated file’s policy is still served');
  const text = await metricsText(harness);
  t.match(text, /tandem_policies_loaded 3\n/);
  t.match(text, reloads('success', 0));
  const problems = harness
    .logs()
    .filter((line) => line['msg'] === 'policy reload: problem')
    .map((line) => [line['file'], line['line'], line['message']]);
  t.strictSame(
    problems,
    [
      [
        join(harness.policiesDir, 'redis-ambassador.yaml'),
        1,
        'the file holds no policy (it is empty or all comments); delete the file to remove its policies',
      ],
    ],
    'the problem is logged with file and line',
  );
});

t.test('a policies directory emptied of every file is a failed reload', async (t) => {
  const harness = await startHarness(t);
  for (const name of ['log-forwarder.yaml', 'metrics-adapter.yaml', 'redis-ambassador.yaml']) {
    await rm(join(harness.policiesDir, name));
  }
  t.ok(await waitForReloads(harness, 'failure', 1), 'the reload is counted as failed');
  t.ok(await redisServed(harness), 'the last good set still serves');
  t.match(await metricsText(harness), /tandem_policies_loaded 3\n/);
  t.strictSame(
    harness
      .logs()
      .filter((line) => line['msg'] === 'policy reload: problem')
      .map((line) => [line['file'], line['message']]),
    [[harness.policiesDir, 'the directory holds no policy file (*.yaml, *.yml)']],
  );
});

t.test('a policy file removed on purpose drops its policy, and the log names it', async (t) => {
  const harness = await startHarness(t);
  const file = join(harness.policiesDir, 'redis-ambassador.yaml');
  await rm(file);
  t.ok(await waitForReloads(harness, 'success', 1), 'the removal is a successful reload');
  t.match(await metricsText(harness), /tandem_policies_loaded 2\n/);
  t.notOk(await redisServed(harness), 'the removed policy is no longer injected');
  t.strictSame(
    harness
      .logs()
      .filter((line) => line['msg'] === 'policies removed')
      .map((line) => line['removed']),
    [[{ policy: 'redis-ambassador', file }]],
  );
});

t.test('a policy file written in pieces is not served until it has settled', async (t) => {
  // Settling over 400 ms while the pieces come 100 ms apart: without settling, the
  // 30 ms debounce alone loads the first piece, a valid policy that lacks its env.
  const harness = await startHarness(t, {
    watch: { debounceMs: 30, pollMs: 300, settleMs: 400 },
  });
  const file = join(harness.policiesDir, 'echo.yaml');
  let sampling = true;
  const partial: string[] = [];
  const sampler = (async () => {
    // Bounded by the flag and by 400 samples.
    for (let i = 0; i < 400 && sampling; i += 1) {
      const patch = await patchFor(harness, echoPod());
      if (patch !== '' && !patch.includes('ECHO_ADDR')) partial.push(patch);
      await sleep(10);
    }
  })();
  await writeFile(file, ECHO_POLICY);
  await sleep(100);
  await appendFile(file, ECHO_APP_ENV);
  t.ok(
    await waitFor(async () => (await patchFor(harness, echoPod())).includes('ECHO_ADDR')),
    'the whole file is served',
  );
  sampling = false;
  await sampler;
  t.strictSame(partial.length, 0, 'no review was answered from the half-written file');
  t.match(await metricsText(harness), reloads('success', 1), 'one reload, of the whole file');
});

/** replaceAndEdit replaces the policies directory, then adds a policy and times its arrival. */
async function replaceAndEdit(t: Test, replace: (dir: string) => Promise<void>): Promise<void> {
  // Polling once a minute: only the watcher can bring the edit within a second.
  const harness = await startHarness(t, {
    watch: { debounceMs: 30, pollMs: 60_000, settleMs: 50 },
  });
  await replace(harness.policiesDir);
  // The replaced directory holds the same policies: its reload changes nothing served.
  await sleep(500);
  const started = Date.now();
  await writeFile(join(harness.policiesDir, 'echo.yaml'), ECHO_POLICY);
  const arrived = await waitFor(
    async () => (await patchFor(harness, echoPod())).includes('tandem-echo'),
    40,
  );
  const ms = Date.now() - started;
  t.ok(arrived && ms < 1500, `the edit arrives within about a second (${ms} ms)`);
}

t.test('an edit after the policies directory was removed and recreated arrives at once', (t) =>
  replaceAndEdit(t, async (dir) => {
    await rm(dir, { recursive: true });
    await mkdir(dir);
    await cp(REPO_POLICIES, dir, { recursive: true });
  }),
);

t.test('an edit after the policies directory was renamed away and replaced arrives at once', (t) =>
  replaceAndEdit(t, async (dir) => {
    await rename(dir, `${dir}.old`);
    await cp(`${dir}.old`, `${dir}.new`, { recursive: true });
    await rename(`${dir}.new`, dir);
  }),
);

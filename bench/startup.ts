/**
 * Start-up time (issue 16): from spawning `tandem serve` to its first `/readyz` 200, the
 * moment a kubelet's readiness probe could let traffic in. Polled every 10 ms, so the
 * figure is at most 10 ms late; the median of a few starts, since one start on a shared
 * machine can land on someone else's burst.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { answersOk, type Pinning } from './processes.ts';

const POLL_MS = 10;
const GIVE_UP_MS = 60_000;

/** StartSpec is how to start one server for timing: node's arguments and its port. */
export interface StartSpec {
  readonly nodeArgs: readonly string[];
  readonly port: number;
  readonly pinning: Pinning;
}

/** secondsToReady starts the server once, times it to `/readyz` 200, and stops it. */
export async function secondsToReady(spec: StartSpec): Promise<number> {
  const [command, args] = spec.pinning.pinned
    ? ['taskset', ['-c', String(spec.pinning.serverCore), process.execPath, ...spec.nodeArgs]]
    : [process.execPath, [...spec.nodeArgs]];
  const started = performance.now();
  const child = spawn(command, args, { stdio: 'ignore' });
  const exited = once(child, 'exit');
  try {
    while (!(await answersOk(spec.port, '/readyz'))) {
      if (child.exitCode !== null || performance.now() - started > GIVE_UP_MS) {
        throw new Error(`the server did not get ready (exit code ${String(child.exitCode)})`);
      }
      await sleep(POLL_MS);
    }
    return (performance.now() - started) / 1000;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** medianSecondsToReady starts the server `times` times, one after another. */
export async function medianSecondsToReady(
  spec: () => Promise<StartSpec>,
  times: number,
): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < times; i += 1) runs.push(await secondsToReady(await spec()));
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)] ?? Number.NaN;
}

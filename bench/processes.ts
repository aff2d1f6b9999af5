/**
 * The bench's server processes: started as children (pinned to a core when the machine
 * has taskset and two cores), waited on until they answer /healthz, measured through
 * /proc, and stopped by their own pid. Nothing here outlives the run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** Pinning says which cores the servers and the load generator run on, if pinned. */
export interface Pinning {
  readonly pinned: boolean;
  readonly serverCore: number;
  readonly clientCore: number;
  /** why is shown in the report: what was done, or why not. */
  readonly why: string;
}

/**
 * pinCores pins this process (the load generator) to core 1 and says to start servers on
 * core 0. taskset comes with util-linux; without it or without a second core the run goes
 * on unpinned and the report says so.
 */
export function pinCores(): Pinning {
  const unpinned = (why: string): Pinning => ({ pinned: false, serverCore: 0, clientCore: 0, why });
  if (availableParallelism() < 2) return unpinned('not pinned: one core');
  const probe = spawnSync('taskset', ['-V'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return unpinned('not pinned: no taskset');
  // -a: every thread of this process, libuv's pool and V8's helpers included.
  const self = spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)], { encoding: 'utf8' });
  if (self.status !== 0) return unpinned(`not pinned: taskset failed (${self.stderr.trim()})`);
  return {
    pinned: true,
    serverCore: 0,
    clientCore: 1,
    why: 'server on core 0, load generator on core 1 (taskset)',
  };
}

/** freePort asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** ServerProcess is a started server child. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** output is the last few KB the child wrote, for error messages. */
  output(): string;
  /** stop sends SIGTERM and waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** ServerSpec says how to start one server child. */
export interface ServerSpec {
  readonly name: string;
  /** args to node, the script included; `{port}` is replaced by the port. */
  readonly nodeArgs: readonly string[];
  readonly port: number;
  readonly pinning: Pinning;
  /** env is added to the bench's environment, e.g. KUBECONFIG for cluster mode. */
  readonly env?: Readonly<Record<string, string>>;
}

const OUTPUT_KEPT = 8 * 1024;
const READY_TIMEOUT_MS = 60_000;

/** answersOk says whether the server answers `path` with 200. */
export function answersOk(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, rejectUnauthorized: false, timeout: 1000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = once(child, 'exit').then(() => true);
  return Promise.race([exited, sleep(ms).then(() => false)]);
}

/** startServer starts a child and resolves once it answers /healthz. */
export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  const node = [...spec.nodeArgs];
  // taskset execs node, so the child's pid is node's and /proc/<pid> is the server's.
  const [command, args] = spec.pinning.pinned
    ? ['taskset', ['-c', String(spec.pinning.serverCore), process.execPath, ...node]]
    : [process.execPath, node];
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...spec.env },
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${spec.name}: could not start ${command}`);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answersOk(spec.port, '/healthz'))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${spec.name} did not come up:\n${output}`);
    }
    await sleep(100);
  }
  return {
    name: spec.name,
    pid,
    port: spec.port,
    url: `https://127.0.0.1:${spec.port}`,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitExit(child, 5_000);
      }
    },
  };
}

/** rssMiB reads a process's resident set size (VmRSS) from /proc, in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/** cpuSeconds reads a process's user + system CPU time from /proc, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux architecture node runs on
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

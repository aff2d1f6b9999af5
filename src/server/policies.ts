/**
 * The policy set the webhook serves, and its reload. As Istio's injector watcher does:
 * a bad directory at start-up is fatal (the caller's business), a bad reload is logged
 * issue by issue, counted, and the last good set keeps serving.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { TandemError, formatPolicyIssue, messageOf, type PolicyIssue } from '../errors.ts';
import type { PolicySet } from '../policy/compile.ts';
import { buildPolicyFiles, readPolicyFiles, type PolicyFiles } from '../policy/load.ts';
import type { ServerMetrics } from './metrics.ts';
import { watchDirectories, type Watch, type WatchOptions } from './watch.ts';

/** PolicyStore holds the current set; `set` swaps it whole, between two reviews. */
export interface PolicyStore {
  get(): PolicySet;
  set(policies: PolicySet): void;
}

/** createPolicyStore starts a store with the set loaded at start-up. */
export function createPolicyStore(initial: PolicySet): PolicyStore {
  let current = initial;
  return {
    get: () => current,
    set(policies) {
      current = policies;
    },
  };
}

/** PolicySnapshot is one read of the directory and its fingerprint. */
interface PolicySnapshot {
  /** fingerprint hashes names, contents and read problems, so two reads can be compared. */
  readonly fingerprint: string;
  readonly read: PolicyFiles;
}

/** unreadableDirectory: a directory that cannot be read (unmounted, removed) is one issue. */
function unreadableDirectory(dir: string, error: unknown): PolicyFiles {
  const cause = error instanceof TandemError && error.cause instanceof Error ? error.cause : error;
  const reason = messageOf(cause);
  const message = `cannot read the policies directory: ${reason}`;
  return { dir, files: [], issues: [{ file: dir, line: 0, column: 0, fieldPath: '', message }] };
}

/**
 * snapshotPolicyDirectory reads the policy files once and fingerprints what it read, so
 * what is loaded is exactly what was compared, never a later read of a changing file.
 */
async function snapshotPolicyDirectory(dir: string): Promise<PolicySnapshot> {
  let read: PolicyFiles;
  try {
    read = await readPolicyFiles(dir);
  } catch (error) {
    read = unreadableDirectory(dir, error);
  }
  const hash = createHash('sha256');
  for (const { file, text } of read.files) hash.update(file).update('\0').update(text).update('\0');
  for (const issue of read.issues) hash.update(issue.file).update('\0!').update(issue.message);
  return { fingerprint: hash.digest('hex'), read };
}

/**
 * fingerprintPolicyDirectory hashes the names and contents of the directory's policy
 * files, through symlinks, so a check can tell a real change from nothing for the price
 * of a few small reads.
 */
export async function fingerprintPolicyDirectory(dir: string): Promise<string> {
  return (await snapshotPolicyDirectory(dir)).fingerprint;
}

/**
 * DEFAULT_SETTLE_MS: how long the directory must read the same before it is loaded. An
 * editor or `cp` writes a file in place, in pieces; a piece that happens to end where a
 * policy is still valid YAML (before its appContainer, say) would load as a smaller policy
 * (issue 9). Writers that pause longer than this mid-file are not covered: use an atomic
 * rename, as a ConfigMap volume does.
 */
export const DEFAULT_SETTLE_MS = 500;
// Twenty rounds of settling (10 s by default) is far past any honest write; a directory
// still changing then is left to the next event or poll.
const MAX_SETTLE_ROUNDS = 20;

/**
 * settledSnapshot reads the directory until two reads `settleMs` apart agree. It returns
 * at once when nothing changed since `seen`, and undefined when it never settled.
 */
async function settledSnapshot(
  dir: string,
  settleMs: number,
  seen: string,
): Promise<PolicySnapshot | undefined> {
  let previous = await snapshotPolicyDirectory(dir);
  if (previous.fingerprint === seen) return previous;
  for (let round = 0; round < MAX_SETTLE_ROUNDS; round += 1) {
    await sleep(settleMs, undefined, { ref: false });
    const next = await snapshotPolicyDirectory(dir);
    if (next.fingerprint === previous.fingerprint) return next;
    previous = next;
  }
  return undefined;
}

/** PolicyWatchOptions wires a policy reloader. */
export interface PolicyWatchOptions {
  readonly dir: string;
  readonly store: PolicyStore;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  readonly watch: WatchOptions;
  /** loadedFingerprint is the directory's fingerprint when the start-up set was read. */
  readonly loadedFingerprint: string;
}

/** RemovedPolicy is a policy the new set no longer holds, and the file it came from. */
interface RemovedPolicy {
  readonly policy: string;
  readonly file: string;
}

function removedPolicies(before: PolicySet, after: PolicySet): RemovedPolicy[] {
  return [...before.byName.values()]
    .filter((policy) => !after.byName.has(policy.name))
    .map((policy) => ({ policy: policy.name, file: policy.source.file }));
}

/**
 * watchPolicies reloads the directory when it changes and has settled. A directory that
 * is broken stays counted as one failure until it changes again. What counts as broken
 * is the loader's: besides invalid files, a file that holds no policy (truncated) and a
 * directory with no policy file, so neither silently drops policies; a file that is gone
 * drops its policies, and the log names them.
 */
export function watchPolicies(options: PolicyWatchOptions): Watch {
  const { dir, store, logger, metrics } = options;
  let seen = options.loadedFingerprint;
  const settleMs = options.watch.settleMs ?? DEFAULT_SETTLE_MS;

  const succeed = (set: PolicySet): void => {
    const removed = removedPolicies(store.get(), set);
    store.set(set);
    metrics.recordPolicyReload('success', set.byName.size);
    metrics.recordPoliciesServed(Date.now());
    logger.info({ dir, policies: [...set.byName.keys()] }, 'policies reloaded');
    // A policy file that is gone is an intentional removal; say which policies went.
    if (removed.length > 0) logger.info({ dir, removed }, 'policies removed');
  };
  const fail = (issues: readonly PolicyIssue[]): void => {
    metrics.recordPolicyReload('failure');
    for (const issue of issues) {
      logger.error({ ...issue, issue: formatPolicyIssue(issue) }, 'policy reload: problem');
    }
    logger.error(
      { dir, problems: issues.length },
      'policy reload failed; still serving the last good policies',
    );
  };

  const check = async (): Promise<void> => {
    const snapshot = await settledSnapshot(dir, settleMs, seen);
    if (snapshot === undefined) {
      logger.warn({ dir }, 'policies directory still changing; waiting for it to settle');
      return;
    }
    if (snapshot.fingerprint === seen) return;
    seen = snapshot.fingerprint;
    const loaded = buildPolicyFiles(snapshot.read);
    if (loaded.issues.length === 0) succeed(loaded.set);
    else fail(loaded.issues);
  };
  return watchDirectories([dir], check, options.watch);
}

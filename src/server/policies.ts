/**
 * The policy set the webhook serves, and its reload. As Istio's injector watcher does:
 * a bad directory at start-up is fatal (the caller's business), a bad reload is logged
 * issue by issue, counted, and the last good set keeps serving.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { formatPolicyIssue, type PolicyIssue } from '../errors.ts';
import type { PolicySet } from '../policy/compile.ts';
import { readPolicyDirectory } from '../policy/load.ts';
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

/**
 * fingerprintPolicyDirectory hashes the names and contents of the directory's entries,
 * through symlinks, so a poll can tell a real change from nothing for the price of a few
 * small reads. Dot entries (a ConfigMap's `..data`) are skipped, as the loader skips them.
 */
export async function fingerprintPolicyDirectory(dir: string): Promise<string> {
  const hash = createHash('sha256');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
  } catch (error) {
    return `unreadable: ${(error as Error).message}`;
  }
  for (const name of names) {
    hash.update(name).update('\0');
    try {
      hash.update(await readFile(join(dir, name)));
    } catch {
      hash.update('\0unreadable');
    }
    hash.update('\0');
  }
  return hash.digest('hex');
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

/**
 * watchPolicies reloads the directory when it changes. A directory that is broken stays
 * counted as one failure until it changes again.
 */
export function watchPolicies(options: PolicyWatchOptions): Watch {
  const { dir, store, logger, metrics } = options;
  let seen = options.loadedFingerprint;

  const check = async (): Promise<void> => {
    // Fingerprint before reading, so a change during the read is seen by the next check.
    const fingerprint = await fingerprintPolicyDirectory(dir);
    if (fingerprint === seen) return;
    seen = fingerprint;
    let issues: readonly PolicyIssue[];
    try {
      const result = await readPolicyDirectory(dir);
      if (result.issues.length === 0) {
        store.set(result.set);
        metrics.recordPolicyReload('success', result.set.byName.size);
        logger.info({ dir, policies: [...result.set.byName.keys()] }, 'policies reloaded');
        return;
      }
      issues = result.issues;
    } catch (error) {
      // The directory itself is unreadable (unmounted, permissions): one issue for it.
      const message = error instanceof Error ? error.message : String(error);
      issues = [{ file: dir, line: 0, column: 0, fieldPath: '', message }];
    }
    metrics.recordPolicyReload('failure');
    for (const issue of issues) {
      logger.error({ ...issue, issue: formatPolicyIssue(issue) }, 'policy reload: problem');
    }
    logger.error(
      { dir, problems: issues.length },
      'policy reload failed; still serving the last good policies',
    );
  };
  return watchDirectories([dir], check, options.watch);
}

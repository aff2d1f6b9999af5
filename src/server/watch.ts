/**
 * watchDirectories calls back, debounced, when something in a directory changes, and
 * on a slow poll besides. Kubernetes updates a mounted Secret or ConfigMap by writing a
 * new timestamped directory and renaming a `..data` symlink over the old one; the files
 * the pod reads are symlinks through `..data`, so the change shows up as events on the
 * mount directory, not on the files. inotify can still miss things (some network or
 * overlay filesystems), hence the poll: the callback compares contents itself, so an
 * extra call costs a couple of small reads.
 *
 * inotify watches an inode, not a path: once the directory is removed or renamed away
 * and another one takes its name, the old watch reports nothing more, and edits arrived
 * only with the next poll (issue 9). So a watch is armed again on the path when it
 * reports on the directory itself, or when the path's device and inode change.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';

/** WatchOptions tunes the watcher; tests shorten all three. */
export interface WatchOptions {
  /** debounceMs waits for a burst of events (a symlink swap is several) to end. */
  readonly debounceMs: number;
  /** pollMs is the fallback period; 0 turns polling off. */
  readonly pollMs: number;
  /**
   * settleMs is how long a policies directory must stay unchanged before it is read as
   * a whole (the policy reloader's; the default is DEFAULT_SETTLE_MS).
   */
  readonly settleMs?: number;
}

/** Watch is a running watcher. */
export interface Watch {
  close(): void;
}

/** ArmedDirectory is one watched path, what it was when armed, and its watcher. */
interface ArmedDirectory {
  readonly dir: string;
  /** identity is `device:inode` of the directory watched; undefined while it is missing. */
  identity: string | undefined;
  /**
   * stale is set when the watch reported on the directory itself (removed or moved): a
   * new directory made at once often gets the old inode number back, so the identity
   * alone cannot tell.
   */
  stale: boolean;
  watcher: FSWatcher | undefined;
}

/** identityOf is the directory's `device:inode`, or undefined when it is not there. */
function identityOf(dir: string): string | undefined {
  try {
    const stats = statSync(dir);
    return `${stats.dev}:${stats.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * watchDirectories runs `check` after changes in `dirs` and every `pollMs`. Calls never
 * overlap: a change during a check schedules one more check after it. A directory that
 * is replaced is watched again at once; one that is missing is looked for every
 * `debounceMs` until it is back, and its return runs `check`.
 */
export function watchDirectories(
  dirs: readonly string[],
  check: () => Promise<void>,
  options: WatchOptions,
): Watch {
  let timer: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let closed = false;

  const run = async (): Promise<void> => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        try {
          await check();
        } catch {
          // check reports its own failures; the watcher must survive them to try again.
        }
      } while (again && !closed);
    } finally {
      running = false;
    }
  };
  const trigger = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      rearmReplaced();
      void run();
    }, options.debounceMs);
    timer.unref();
  };

  const arm = (entry: ArmedDirectory): void => {
    entry.watcher?.close();
    entry.watcher = undefined;
    entry.stale = false;
    entry.identity = identityOf(entry.dir);
    if (entry.identity === undefined) return;
    const self = basename(entry.dir);
    try {
      const watcher = watch(entry.dir, { persistent: false }, (_event, name) => {
        // inotify names the watched directory itself when it is deleted or moved away;
        // after that the watch is dead. A file of the same name only costs a re-arm.
        if (name === null || name === self) entry.stale = true;
        trigger();
      });
      // A watched directory can vanish (unmounted, replaced): look for it again.
      watcher.on('error', () => {
        watcher.close();
        if (entry.watcher === watcher) entry.watcher = undefined;
        trigger();
      });
      entry.watcher = watcher;
    } catch {
      // Not watchable here (e.g. no inotify instances left): polling alone will do.
    }
  };
  const entries: ArmedDirectory[] = [...new Set(dirs)].map((dir) => {
    const entry: ArmedDirectory = { dir, identity: undefined, stale: false, watcher: undefined };
    arm(entry);
    return entry;
  });

  /**
   * rearmReplaced arms each directory whose identity changed since it was armed; it
   * reports whether any did, since a new directory's content arrived without events.
   */
  function rearmReplaced(): boolean {
    let changed = false;
    for (const entry of entries) {
      if (!entry.stale && identityOf(entry.dir) === entry.identity) continue;
      arm(entry);
      changed = true;
    }
    scheduleRetry();
    return changed;
  }
  /** scheduleRetry looks again for missing directories, so their return is seen quickly. */
  function scheduleRetry(): void {
    if (closed || retry !== undefined) return;
    if (entries.every((entry) => entry.identity !== undefined)) return;
    retry = setTimeout(() => {
      retry = undefined;
      if (rearmReplaced()) void run();
    }, options.debounceMs);
    retry.unref();
  }
  scheduleRetry();

  const poll =
    options.pollMs > 0
      ? setInterval(() => {
          rearmReplaced();
          void run();
        }, options.pollMs)
      : undefined;
  poll?.unref();

  return {
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      if (retry !== undefined) clearTimeout(retry);
      if (poll !== undefined) clearInterval(poll);
      for (const entry of entries) entry.watcher?.close();
    },
  };
}

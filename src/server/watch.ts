/**
 * watchDirectories calls back, debounced, when something in a directory changes, and
 * on a slow poll besides. Kubernetes updates a mounted Secret or ConfigMap by writing a
 * new timestamped directory and renaming a `..data` symlink over the old one; the files
 * the pod reads are symlinks through `..data`, so the change shows up as events on the
 * mount directory, not on the files. inotify can still miss things (a directory replaced
 * wholesale, some network or overlay filesystems), hence the poll: the callback compares
 * contents itself, so an extra call costs a couple of small reads.
 */
import { watch, type FSWatcher } from 'node:fs';

/** WatchOptions tunes the watcher; tests shorten both. */
export interface WatchOptions {
  /** debounceMs waits for a burst of events (a symlink swap is several) to end. */
  readonly debounceMs: number;
  /** pollMs is the fallback period; 0 turns polling off. */
  readonly pollMs: number;
}

/** Watch is a running watcher. */
export interface Watch {
  close(): void;
}

/**
 * watchDirectories runs `check` after changes in `dirs` and every `pollMs`. Calls never
 * overlap: a change during a check schedules one more check after it.
 */
export function watchDirectories(
  dirs: readonly string[],
  check: () => Promise<void>,
  options: WatchOptions,
): Watch {
  let timer: NodeJS.Timeout | undefined;
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
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, options.debounceMs);
    timer.unref();
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(dirs)) {
    try {
      const watcher = watch(dir, { persistent: false }, trigger);
      // A watched directory can vanish (unmounted, replaced); the poll still covers it.
      watcher.on('error', () => watcher.close());
      watchers.push(watcher);
    } catch {
      // Not watchable here (e.g. no inotify instances left): polling alone will do.
    }
  }
  const poll = options.pollMs > 0 ? setInterval(() => void run(), options.pollMs) : undefined;
  poll?.unref();

  return {
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      if (poll !== undefined) clearInterval(poll);
      for (const watcher of watchers) watcher.close();
    },
  };
}

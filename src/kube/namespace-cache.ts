/**
 * The in-cluster NamespaceDirectory: client-node's informer lists the namespaces once,
 * then watches them, and tandem keeps each one's labels and param annotations in a Map. A
 * review never waits on the apiserver; it reads the Map.
 *
 * client-node's ListWatch handles two cases itself: a watch the server closes cleanly is
 * reopened from the last resourceVersion, and a 410 Gone (the resourceVersion is older
 * than etcd's compaction window) forgets that resourceVersion and lists again. Any other
 * failure (connection refused or reset, a failed list, 5xx) stops it and calls the
 * error callbacks; restarting it is this module's job, with backoff.
 */
import {
  CoreV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type V1Namespace,
  type V1NamespaceList,
} from '@kubernetes/client-node';
import { namespaceInfo, type NamespaceDirectory, type NamespaceInfo } from './namespaces.ts';

/** NamespaceCacheEvent is what the cache reports for the log; it never logs itself. */
export type NamespaceCacheEvent =
  | { readonly type: 'synced'; readonly namespaces: number }
  | { readonly type: 'error'; readonly error: unknown; readonly retryInMs: number };

/** NamespaceCacheOptions tunes the restart backoff and receives the cache's events. */
export interface NamespaceCacheOptions {
  /** retryMs is the first restart delay after a failure; it doubles up to maxRetryMs. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  readonly onEvent?: (event: NamespaceCacheEvent) => void;
}

/** NamespaceCache is a NamespaceDirectory fed by a list+watch on namespaces. */
export interface NamespaceCache extends NamespaceDirectory {
  /**
   * start lists and watches namespaces. It resolves once the first list is in the cache,
   * and keeps retrying until then; it also resolves if stop() comes first.
   */
  start(): Promise<void>;
  /** stop ends the watch and any pending retry. */
  stop(): Promise<void>;
}

// client-go's reflector backs off from 800 ms to 30 s; a second is as good a start here.
const DEFAULT_RETRY_MS = 1000;
const DEFAULT_MAX_RETRY_MS = 30_000;

const NAMESPACES_PATH = '/api/v1/namespaces';

/**
 * createNamespaceCache builds the cache on `kubeConfig`. It needs `list` and `watch` on
 * namespaces (cluster-wide), nothing else.
 */
export function createNamespaceCache(
  kubeConfig: KubeConfig,
  options: NamespaceCacheOptions = {},
): NamespaceCache {
  return new InformerNamespaceCache(kubeConfig, options);
}

function infoOf(namespace: V1Namespace): NamespaceInfo {
  return namespaceInfo({ ...namespace.metadata?.labels }, namespace.metadata?.annotations ?? {});
}

class InformerNamespaceCache implements NamespaceCache {
  readonly #informer: Informer<V1Namespace>;
  readonly #options: NamespaceCacheOptions;
  readonly #infos = new Map<string, NamespaceInfo>();
  #synced = false;
  #stopped = true;
  #failed = false;
  #listed = false;
  #retryMs: number;
  #retryTimer: NodeJS.Timeout | undefined;
  #onSynced: (() => void) | undefined;

  constructor(kubeConfig: KubeConfig, options: NamespaceCacheOptions) {
    const core = kubeConfig.makeApiClient(CoreV1Api);
    // The informer applies a list's items as soon as this promise resolves, before it
    // opens the watch, so by the time its start() returns they are in the Map.
    const list = async (): Promise<V1NamespaceList> => {
      const namespaces = await core.listNamespace();
      this.#listed = true;
      return namespaces;
    };
    const informer = makeInformer<V1Namespace>(kubeConfig, NAMESPACES_PATH, list);
    this.#informer = informer;
    this.#options = options;
    this.#retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    const put = (namespace: V1Namespace): void => {
      const name = namespace.metadata?.name;
      if (name !== undefined) this.#infos.set(name, infoOf(namespace));
    };
    informer.on('add', put);
    informer.on('update', put);
    informer.on('delete', (namespace) => {
      const name = namespace.metadata?.name;
      if (name !== undefined) this.#infos.delete(name);
    });
    informer.on('error', (error: unknown) => this.#onError(error));
  }

  get synced(): boolean {
    return this.#synced;
  }

  lookup(name: string): NamespaceInfo | undefined {
    return this.#infos.get(name);
  }

  start(): Promise<void> {
    this.#stopped = false;
    const synced = this.#synced
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.#onSynced = resolve;
        });
    void this.#run();
    return synced;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#informer.stop();
    this.#onSynced?.();
    this.#onSynced = undefined;
  }

  /**
   * #run starts the informer once. Its start() resolves when the watch is open, or when
   * the list or the watch has failed, which the error callback has then reported.
   */
  async #run(): Promise<void> {
    this.#failed = false;
    try {
      await this.#informer.start();
    } catch (error) {
      // Reading credentials (a token file, an exec plugin) can throw before any request.
      this.#onError(error);
    }
    if (this.#stopped) return;
    // A complete list is a complete view, even if the watch after it failed.
    if (!this.#synced && this.#listed) {
      this.#synced = true;
      this.#options.onEvent?.({ type: 'synced', namespaces: this.#infos.size });
      this.#onSynced?.();
      this.#onSynced = undefined;
    }
    if (!this.#failed) this.#retryMs = this.#options.retryMs ?? DEFAULT_RETRY_MS;
  }

  #onError(error: unknown): void {
    // Stopping aborts the watch's request, which the informer reports as an error too.
    if (this.#stopped) return;
    this.#failed = true;
    const retryInMs = this.#retryMs;
    this.#retryMs = Math.min(retryInMs * 2, this.#options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS);
    this.#options.onEvent?.({ type: 'error', error, retryInMs });
    clearTimeout(this.#retryTimer);
    // The informer restarts from its last resourceVersion: no relist unless it gets a 410.
    this.#retryTimer = setTimeout(() => void this.#run(), retryInMs);
  }
}

/**
 * The in-cluster NamespaceDirectory: tandem lists the namespaces, then watches them from
 * the list's resourceVersion, as client-go's reflector does, and keeps of each namespace
 * only its labels and param annotations, in a Map. A review never waits on the apiserver;
 * it reads the Map.
 *
 * - A watch the apiserver ends (it asks for 5 to 10 minutes, as client-go does) is
 *   reopened from the last resourceVersion; bookmarks keep that version current while
 *   nothing changes, so a reconnect after a quiet hour still finds it.
 * - 410 Gone, answered to the watch request or sent as an ERROR event, means the version
 *   is older than etcd's compaction window: list again, then watch from the new list.
 *   That is routine and not reported.
 * - Anything else (connection refused or reset, a failed list, 5xx, a watch silent past
 *   its timeout, a line that is not an event) is reported and retried with backoff, from
 *   the last resourceVersion.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { isJsonObject, type JsonObject } from '../json.ts';
import { ApiStatusError, getJson, openApiRequest } from './api-request.ts';
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
// Pages of 500, as client-go's reflector lists: a big cluster's list is never one body.
const LIST_PAGE_SIZE = '500';
const LIST_IDLE_MS = 60_000;
// client-go's minWatchTimeout; each watch asks for 1 to 2 times it, so that replicas
// started together do not all reconnect together.
const WATCH_MIN_SECONDS = 300;
// The apiserver ends a watch at its timeoutSeconds: silence well past that is a dead connection.
const WATCH_GRACE_MS = 30_000;
// A watch that ends this soon having delivered nothing is a failure, not a reason to reconnect at once.
const SHORT_WATCH_MS = 1000;

/**
 * createNamespaceCache builds the cache on `kubeConfig`. It needs `list` and `watch` on
 * namespaces (cluster-wide), nothing else.
 */
export function createNamespaceCache(
  kubeConfig: KubeConfig,
  options: NamespaceCacheOptions = {},
): NamespaceCache {
  return new ListWatchNamespaceCache(kubeConfig, options);
}

/** stringMap keeps the string values of a labels or annotations map. */
function stringMap(value: unknown): Record<string, string> {
  if (!isJsonObject(value)) return {};
  const kept: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) if (typeof item === 'string') kept[key] = item;
  return kept;
}

function metadataOf(object: unknown): JsonObject {
  const metadata = isJsonObject(object) ? object['metadata'] : undefined;
  return isJsonObject(metadata) ? metadata : {};
}

function stringField(object: JsonObject, key: string): string | undefined {
  const value = object[key];
  return typeof value === 'string' ? value : undefined;
}

/** ListPage is what tandem reads of one page of a NamespaceList. */
interface ListPage {
  readonly items: readonly unknown[];
  readonly resourceVersion: string;
  readonly continueToken: string;
}

function readListPage(body: unknown): ListPage {
  const items = isJsonObject(body) ? body['items'] : undefined;
  if (!Array.isArray(items)) throw new Error(`GET ${NAMESPACES_PATH} answered no items`);
  const metadata = metadataOf(body);
  return {
    items,
    resourceVersion: stringField(metadata, 'resourceVersion') ?? '',
    continueToken: stringField(metadata, 'continue') ?? '',
  };
}

/** WatchEvent is one line of a watch stream. */
interface WatchEvent {
  readonly type: string;
  readonly object: JsonObject;
}

function readWatchEvent(line: string): WatchEvent {
  const event: unknown = JSON.parse(line);
  if (isJsonObject(event) && typeof event['type'] === 'string' && isJsonObject(event['object'])) {
    return { type: event['type'], object: event['object'] };
  }
  throw new Error(`the namespace watch sent a line that is not an event: ${line.slice(0, 200)}`);
}

/** watchEnd is how one watch ended, when it ended without a failure. */
type WatchEnd = 'ended' | 'gone';

class ListWatchNamespaceCache implements NamespaceCache {
  readonly #kubeConfig: KubeConfig;
  readonly #options: NamespaceCacheOptions;
  #infos = new Map<string, NamespaceInfo>();
  #resourceVersion = '';
  #needsList = true;
  #synced = false;
  #retryMs: number;
  #stopping = new AbortController();
  #running: Promise<void> | undefined;
  #onSynced: (() => void) | undefined;

  constructor(kubeConfig: KubeConfig, options: NamespaceCacheOptions) {
    this.#kubeConfig = kubeConfig;
    this.#options = options;
    this.#retryMs = this.#firstRetryMs();
  }

  get synced(): boolean {
    return this.#synced;
  }

  lookup(name: string): NamespaceInfo | undefined {
    return this.#infos.get(name);
  }

  start(): Promise<void> {
    const synced = this.#synced
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.#onSynced = resolve;
        });
    if (this.#running === undefined) {
      this.#stopping = new AbortController();
      this.#running = this.#run(this.#stopping.signal);
    }
    return synced;
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#running;
    this.#running = undefined;
    this.#onSynced?.();
    this.#onSynced = undefined;
  }

  #firstRetryMs(): number {
    return this.#options.retryMs ?? DEFAULT_RETRY_MS;
  }

  /** #run lists when it must, watches, and on a failure waits out the backoff; until stopped. */
  async #run(stopping: AbortSignal): Promise<void> {
    while (!stopping.aborted) {
      try {
        if (this.#needsList) await this.#list(stopping);
        if ((await this.#watch(stopping)) === 'gone') this.#needsList = true;
      } catch (error) {
        // Stopping aborts the request in flight, which fails it: not worth reporting.
        if (stopping.aborted) return;
        await this.#backOff(error, stopping);
      }
    }
  }

  async #backOff(error: unknown, stopping: AbortSignal): Promise<void> {
    const retryInMs = this.#retryMs;
    this.#retryMs = Math.min(retryInMs * 2, this.#options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS);
    this.#options.onEvent?.({ type: 'error', error, retryInMs });
    await sleep(retryInMs, undefined, { signal: stopping }).catch(() => undefined);
  }

  /** #list reads every page and replaces the Map: a namespace gone while unwatched goes too. */
  async #list(stopping: AbortSignal): Promise<void> {
    const infos = new Map<string, NamespaceInfo>();
    let page: ListPage | undefined;
    do {
      const query: Record<string, string> = { limit: LIST_PAGE_SIZE };
      if (page !== undefined) query['continue'] = page.continueToken;
      const body = await getJson(this.#kubeConfig, {
        path: NAMESPACES_PATH,
        query,
        idleMs: LIST_IDLE_MS,
        signal: stopping,
      });
      page = readListPage(body);
      for (const item of page.items) putInfo(infos, item);
    } while (page.continueToken !== '');
    this.#infos = infos;
    this.#resourceVersion = page.resourceVersion;
    this.#needsList = false;
    this.#retryMs = this.#firstRetryMs();
    this.#markSynced();
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    this.#options.onEvent?.({ type: 'synced', namespaces: this.#infos.size });
    this.#onSynced?.();
    this.#onSynced = undefined;
  }

  /** #watch follows changes from the resourceVersion until the watch ends or fails. */
  async #watch(stopping: AbortSignal): Promise<WatchEnd> {
    const timeoutSeconds = Math.floor(WATCH_MIN_SECONDS * (1 + Math.random()));
    let response: IncomingMessage;
    try {
      response = await openApiRequest(this.#kubeConfig, {
        path: NAMESPACES_PATH,
        query: {
          watch: 'true',
          resourceVersion: this.#resourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(timeoutSeconds),
        },
        idleMs: timeoutSeconds * 1000 + WATCH_GRACE_MS,
        signal: stopping,
      });
    } catch (error) {
      if (error instanceof ApiStatusError && error.statusCode === 410) return 'gone';
      throw error;
    }
    const started = Date.now();
    let events = 0;
    for await (const line of lines(response)) {
      // The watch works: whatever fails next starts its backoff afresh.
      if (events === 0) this.#retryMs = this.#firstRetryMs();
      events += 1;
      if (this.#apply(readWatchEvent(line)) === 'gone') return 'gone';
    }
    if (events === 0 && Date.now() - started < SHORT_WATCH_MS) {
      throw new Error('the apiserver ended the namespace watch at once, with no event');
    }
    return 'ended';
  }

  /** #apply takes one event into the Map; an ERROR event other than 410 Gone throws. */
  #apply(event: WatchEvent): 'applied' | 'gone' {
    if (event.type === 'ERROR') {
      const code = event.object['code'];
      if (code === 410) return 'gone';
      const message = stringField(event.object, 'message') ?? 'no message';
      throw new ApiStatusError(typeof code === 'number' ? code : 0, `namespace watch: ${message}`);
    }
    if (event.type === 'ADDED' || event.type === 'MODIFIED') putInfo(this.#infos, event.object);
    if (event.type === 'DELETED') {
      const name = stringField(metadataOf(event.object), 'name');
      if (name !== undefined) this.#infos.delete(name);
    }
    // BOOKMARK carries only the version; every event moves it on.
    this.#resourceVersion =
      stringField(metadataOf(event.object), 'resourceVersion') ?? this.#resourceVersion;
    return 'applied';
  }
}

/** putInfo keeps what tandem needs of one Namespace object. */
function putInfo(infos: Map<string, NamespaceInfo>, namespace: unknown): void {
  const metadata = metadataOf(namespace);
  const name = stringField(metadata, 'name');
  if (name === undefined) return;
  infos.set(name, namespaceInfo(stringMap(metadata['labels']), stringMap(metadata['annotations'])));
}

/** lines yields a streamed body's lines (the apiserver ends each event with a newline). */
async function* lines(response: IncomingMessage): AsyncGenerator<string> {
  response.setEncoding('utf8');
  let pending = '';
  for await (const chunk of response as AsyncIterable<string>) {
    pending += chunk;
    let start = 0;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
      const line = pending.slice(start, end).trim();
      if (line !== '') yield line;
      start = end + 1;
    }
    pending = pending.slice(start);
  }
  if (pending.trim() !== '') yield pending.trim();
}

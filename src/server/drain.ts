/**
 * Graceful shutdown. On SIGTERM the kubelet has begun killing the pod, but the apiserver
 * learns that the endpoint is gone only when the endpoints controller and every
 * kube-proxy have caught up, and keeps sending reviews meanwhile. So tandem goes
 * not-ready and keeps answering for the grace period, telling every client to close its
 * connection after the answer; then it stops listening, lets in-flight reviews finish,
 * and exits.
 *
 * The server never closes a keep-alive connection on its own while clients may still use
 * it. Closing an idle connection races with a client that has just written a review on
 * it, and the apiserver's Go client does not retry a POST it has written: the review
 * fails with "connection reset by peer" and the pod is refused. An answer that carries
 * `Connection: close` is the one race-free way to end an HTTP/1.1 connection, so during
 * the grace period connections end only that way; the ones left idle are closed after it,
 * when the endpoint is gone and no client picks them any more.
 */
import type { Logger } from 'pino';

/** DrainableServer is the part of the http(s) server drain uses. */
export interface DrainableServer {
  closeAllConnections(): void;
}

/** DrainOptions wires a drainer. */
export interface DrainOptions {
  readonly server: DrainableServer;
  /**
   * close stops listening, closes idle connections and resolves when in-flight requests
   * are done (fastify's close); requests still arriving on open connections are answered.
   */
  readonly close: () => Promise<void>;
  readonly graceMs: number;
  readonly logger: Logger;
}

/** Drainer tells the routes whether to close connections, and runs the shutdown. */
export interface Drainer {
  readonly draining: () => boolean;
  /** drain resolves once the server is closed; calling it again returns the same promise. */
  drain(): Promise<void>;
}

// In-flight reviews are in-memory work of milliseconds; one that is not done after this
// long is stuck, and the kubelet's SIGKILL would end it less politely anyway.
const CLOSE_DEADLINE_MS = 5_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** createDrainer returns a drainer that has not started draining. */
export function createDrainer(options: DrainOptions): Drainer {
  let draining = false;
  let done: Promise<void> | undefined;

  const run = async (): Promise<void> => {
    draining = true;
    const { server, logger } = options;
    logger.info(
      { graceMs: options.graceMs },
      'draining: not ready, answers close their connections',
    );
    await sleep(options.graceMs);
    const deadline = setTimeout(() => {
      logger.warn('requests still running at the close deadline; closing their connections');
      server.closeAllConnections();
    }, CLOSE_DEADLINE_MS);
    try {
      await options.close();
    } finally {
      clearTimeout(deadline);
    }
    logger.info('drained');
  };

  return {
    draining: () => draining,
    drain() {
      done ??= run();
      return done;
    },
  };
}

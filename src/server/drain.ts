/**
 * Graceful shutdown. On SIGTERM the kubelet has begun killing the pod, but the apiserver
 * learns that the endpoint is gone only when the endpoints controller and every
 * kube-proxy have caught up, and keeps sending reviews meanwhile. So tandem goes
 * not-ready, keeps answering for the grace period while telling every client to close
 * its connection, then stops listening, lets in-flight reviews finish, and exits.
 */
import type { Logger } from 'pino';

/** DrainableServer is the part of the http(s) server drain uses. */
export interface DrainableServer {
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

/** DrainOptions wires a drainer. */
export interface DrainOptions {
  readonly server: DrainableServer;
  /** close stops listening and resolves when in-flight requests are done (fastify's close). */
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

// Connections that were mid-request when draining began answer without `Connection:
// close` and then sit idle; sweeping idle ones this often closes them soon after.
const IDLE_SWEEP_MS = 200;
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
    logger.info({ graceMs: options.graceMs }, 'draining: not ready, closing connections');
    // Idle keep-alive connections would otherwise carry the apiserver's next review here
    // (kubernetes/kubernetes#127335).
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    try {
      await sleep(options.graceMs);
    } finally {
      clearInterval(sweep);
    }
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

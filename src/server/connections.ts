/**
 * The connection budget. Every open TLS connection costs 65-82 KiB of memory whether or
 * not it ever sends a review, and anything that can reach the Service can open them: a
 * few thousand idle ones would push tandem past its memory limit, and with
 * `failurePolicy: Fail` that refuses pods cluster-wide. So the number of connections is
 * capped; and so that a flood of idle connections cannot lock the apiserver out, a new
 * connection at the cap displaces the connection that has been quiet longest among
 * those with no request in flight, instead of being refused. The apiserver's pooled
 * connections carry reviews all the time and so are the last to be picked; a connection
 * is refused only when every open one is in the middle of a request.
 */
import type { Server as NetServer, Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** ConnectionShed is why a connection was closed by the budget. */
export type ConnectionShed = 'evicted' | 'refused';

/** ConnectionBudgetOptions sets the cap and reports what the budget did. */
export interface ConnectionBudgetOptions {
  readonly maxConnections: number;
  readonly onShed?: (reason: ConnectionShed) => void;
}

/** ConnectionBudget is the live view of the budget. */
export interface ConnectionBudget {
  /** open is the number of accepted TCP connections, before and after their handshake. */
  open(): number;
}

interface Tracked {
  inFlight: number;
}

/** TlsServerSocket is a server-side TLS socket; `_parent` is the TCP socket it wraps. */
interface TlsServerSocket extends Socket {
  readonly _parent?: Socket | null;
}

/** tcpSocketOf finds the accepted TCP socket under a request's socket. */
function tcpSocketOf(socket: Socket): Socket {
  // Node's tls.Server wraps each accepted TCP socket in a TLSSocket and keeps the TCP
  // one as `_parent`; over plain HTTP (tests) the request's socket is the TCP socket.
  return (socket as TlsServerSocket)._parent ?? socket;
}

/**
 * limitConnections enforces the budget on `server`, which must emit 'connection' for
 * each accepted TCP socket (net, tls, http and https servers all do) and 'request' for
 * each HTTP request.
 */
export function limitConnections(
  server: NetServer,
  options: ConnectionBudgetOptions,
): ConnectionBudget {
  // Insertion order is the order of last activity: a connection moves to the end when it
  // is accepted and when a request on it ends, so the first idle entry is the quietest.
  const tracked = new Map<Socket, Tracked>();

  const evictQuietest = (): boolean => {
    for (const [socket, state] of tracked) {
      if (state.inFlight === 0) {
        tracked.delete(socket);
        socket.destroy();
        options.onShed?.('evicted');
        return true;
      }
    }
    return false;
  };

  server.on('connection', (socket: Socket) => {
    if (tracked.size >= options.maxConnections && !evictQuietest()) {
      options.onShed?.('refused');
      socket.destroy();
      return;
    }
    tracked.set(socket, { inFlight: 0 });
    socket.once('close', () => tracked.delete(socket));
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = tcpSocketOf(request.socket);
    const state = tracked.get(socket);
    if (state === undefined) return;
    state.inFlight += 1;
    response.once('close', () => {
      state.inFlight -= 1;
      if (tracked.delete(socket)) tracked.set(socket, state);
    });
  });

  return { open: () => tracked.size };
}

/**
 * answerPipelinedRequests makes the server answer pipelined HTTP/1.1 requests in order.
 * Node hands a TLS connection's bytes straight from C++ to the HTTP parser; when a
 * pipelined request's body waits for a reader, the parser pauses but the bytes keep
 * coming, and the parser fails with HPE_PAUSED, which resets the connection and loses
 * the answers already written to it. A 'data' listener makes Node route the bytes
 * through the socket's stream instead, where pausing holds. The apiserver never
 * pipelines (Go's client does not), so this costs it nothing but a function call per
 * chunk; other HTTP/1.1 clients may.
 */
export function answerPipelinedRequests(server: NetServer): void {
  server.on('secureConnection', (socket: Socket) => {
    socket.on('data', ignoreChunk);
  });
}

function ignoreChunk(): void {}

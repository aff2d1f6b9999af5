/**
 * buildApp: the webhook's routes on a fastify instance, without `listen`, so tests and
 * `tandem serve` start it the same way (fastify's testing guide). Everything the routes
 * read comes in as `AppDeps`; nothing here touches files, the cluster or signals.
 */
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import type { AdmitEnv } from '../admission/pod.ts';
import { joinReview, REVIEW_CONTENT_TYPE } from '../admission/response.ts';
import { parseReview } from '../admission/review.ts';
import { admitReview, logAdmission, type AdmissionSummary } from './admission-summary.ts';
import { AnswerCache, fromCache, remember, type ServedState } from './answer-cache.ts';
import { CachedReview, ParsedReview, reviewBodyParser } from './review-body.ts';
import { answerPipelinedRequests, limitConnections } from './connections.ts';
import type { RejectedStatus, ServerMetrics } from './metrics.ts';

/**
 * DEFAULT_BODY_LIMIT is 7 MiB. The apiserver takes request bodies up to 3 MiB, and a
 * review can carry the object and, on UPDATE, the oldObject too, plus the envelope:
 * 2 × 3 MiB and some room. controller-runtime settles on 7 MiB for the same reason
 * (Istio on 6 MiB); anything larger did not come from an apiserver.
 */
export const DEFAULT_BODY_LIMIT = 7 * 1024 * 1024;

/** TlsCredentials is a PEM key and certificate chain. */
export interface TlsCredentials {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
}

/** ReadinessReport says which conditions of readiness hold. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, boolean>>;
}

/** AppDeps is everything the routes read; AdmitEnv's parts are the admission handler's. */
export interface AppDeps extends AdmitEnv {
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  /** readiness backs /readyz. */
  readonly readiness: () => ReadinessReport;
  /** draining is true after SIGTERM: every answer then closes its connection. */
  readonly draining: () => boolean;
  readonly tls: TlsCredentials;
  readonly bodyLimit?: number;
  /** maxConnections caps open connections; DEFAULT_MAX_CONNECTIONS when absent. */
  readonly maxConnections?: number;
  /** timeouts override CONNECTION_TIMEOUTS, for tests that cannot wait for them. */
  readonly timeouts?: Partial<ConnectionTimeouts>;
}

/** ConnectionTimeouts bound how long a connection may take over each step, in ms. */
export interface ConnectionTimeouts {
  /** handshake: from TCP accept to the end of the TLS handshake. */
  readonly handshake: number;
  /** headers: for a request's headers to arrive. */
  readonly headers: number;
  /** request: for the whole request, headers and body, to arrive. */
  readonly request: number;
  /** idle: keep-alive between requests. */
  readonly idle: number;
}

/**
 * DEFAULT_MAX_CONNECTIONS bounds what idle connections can cost. Measured (bench/,
 * availability): an idle TLS connection after one review holds about 78 KiB, and a
 * flood of 3,000 of them against a cap of 512 took tandem from 138 to 228 MiB of RSS,
 * V8's growth under the handshakes included; deploy/deployment.yaml's limit is sized from
 * that. An apiserver keeps at most 25 idle connections per webhook host
 * (k8s.io/apimachinery's SetTransportDefaults) and a few more while busy, so even
 * several apiservers stay far below the cap.
 */
export const DEFAULT_MAX_CONNECTIONS = 512;

/**
 * CONNECTION_TIMEOUTS are sized to what an apiserver sends. Its client gives up on a TLS
 * handshake after 10 s (client-go's TLSHandshakeTimeout) and writes the headers at once
 * after it; it gives up on the whole call after the webhook's timeoutSeconds, at most
 * 30 s (admissionregistration/v1). A connection slower than that is not an apiserver's,
 * and Node's defaults (120 s handshake, 60 s headers, 300 s request) would let it hold
 * memory for minutes. Idle keep-alive lasts longer than the 90 s idle timeout of the
 * apiserver's client (client-go's SetTransportDefaults), so the client closes an idle
 * connection first and never sends a review on a connection the server is closing.
 */
export const CONNECTION_TIMEOUTS: ConnectionTimeouts = {
  handshake: 10_000,
  headers: 10_000,
  request: 30_000,
  idle: 100_000,
};
// How often Node checks the headers and request timeouts; its 30 s default would let a
// stalled request live up to twice as long as the timeout says.
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
// After this many requests a connection is told to close, so the apiserver dials again
// and the Service spreads it over the replicas: otherwise one apiserver's keep-alive
// connection pins its traffic to one replica forever (kubernetes/kubernetes#75791).
const MAX_REQUESTS_PER_SOCKET = 1000;

function statusOf(error: FastifyError): RejectedStatus {
  const code = error.statusCode;
  return code === 400 || code === 413 || code === 415 ? code : 500;
}

/**
 * logRejected logs a request answered with an HTTP error rather than a review: the
 * apiserver shows the caller only "failed calling webhook", so this line is where the
 * reason can be found. Only bodies that are not reviews get here, never the hot path.
 */
function logRejected(
  logger: Logger,
  request: FastifyRequest,
  answer: { status: RejectedStatus; code: string | undefined; message: string },
): void {
  logger.warn({ ...answer, url: request.url, remoteAddress: request.ip }, 'request rejected');
}

/** buildApp builds the webhook server; the caller listens and closes. */
export function buildApp(deps: AppDeps) {
  const timeouts = { ...CONNECTION_TIMEOUTS, ...deps.timeouts };
  const app = Fastify({
    loggerInstance: deps.logger,
    // One log line per admission, written by the route; fastify's two per request would
    // triple the logging cost on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    https: {
      key: deps.tls.key,
      cert: deps.tls.cert,
      minVersion: 'TLSv1.2',
      handshakeTimeout: timeouts.handshake,
      headersTimeout: timeouts.headers,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, timeouts.headers),
    },
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestTimeout: timeouts.request,
    // Inactivity on a socket with a request open; between requests, keepAliveTimeout.
    connectionTimeout: timeouts.request,
    keepAliveTimeout: timeouts.idle,
    maxRequestsPerSocket: MAX_REQUESTS_PER_SOCKET,
    // Close idle keep-alive connections at close(); in-flight requests still finish.
    forceCloseConnections: 'idle',
    // After the grace period, reviews still arriving on open connections are answered
    // (with `Connection: close`, which fastify adds while closing), not refused with 503:
    // the apiserver does not retry, so a 503 is a refused pod.
    return503OnClosing: false,
  });
  limitConnections(app.server, {
    maxConnections: deps.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    onShed: (reason) => deps.metrics.recordConnectionShed(reason),
  });
  answerPipelinedRequests(app.server);
  // Reviews are JSON; fastify's text/plain parser would let other bodies through to 400
  // where 415 says what is wrong.
  app.removeContentTypeParser('text/plain');
  const answers = new AnswerCache();
  const served: ServedState = {
    policies: deps.getPolicies,
    namespace: (name) => deps.namespaces.lookup(name),
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    reviewBodyParser(
      answers,
      served,
      // A pod may legitimately carry a "__proto__" or "constructor" key (free-form maps
      // such as CSI volumeAttributes). fastify's default answers 400, which with
      // failurePolicy Fail refuses the pod; dropping the key is safe because the patch
      // never copies the author's maps, only adds to them.
      app.getDefaultJsonParser('remove', 'remove'),
    ),
  );

  app.addHook('onSend', (_request, reply, payload, done) => {
    // Draining: the apiserver keeps reusing keep-alive connections to a terminating pod
    // (kubernetes/kubernetes#127335), so each answer tells it to dial a new one, which the
    // Service sends to a replica that is not going away. Set at send time, so a review
    // that began before SIGTERM closes its connection too.
    if (deps.draining()) void reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const status = statusOf(error);
    if (request.routeOptions.url === '/mutate') deps.metrics.recordRejected(status);
    if (status === 500) deps.logger.error({ err: error }, 'request failed');
    else logRejected(deps.logger, request, { status, code: error.code, message: error.message });
    return reply.code(status).send({
      code: error.code,
      message: status === 500 ? 'internal error' : error.message,
    });
  });

  app.post('/mutate', (request, reply) => {
    const body = request.body;
    let summary: AdmissionSummary;
    if (body instanceof CachedReview) {
      summary = fromCache(body.answer, body.uid);
      deps.metrics.recordCacheHit();
    } else {
      const parsed = parseReview(body instanceof ParsedReview ? body.json : body);
      if (!parsed.ok) {
        deps.metrics.recordRejected(400);
        logRejected(deps.logger, request, {
          status: 400,
          code: 'TANDEM_ERR_INPUT',
          message: parsed.message,
        });
        return reply.code(400).send({ code: 'TANDEM_ERR_INPUT', message: parsed.message });
      }
      const { apiVersion, request: review } = parsed.review;
      summary = admitReview(apiVersion, review, deps);
      const key = body instanceof ParsedReview ? body.key : undefined;
      if (key !== undefined) remember(answers, key, summary, served);
    }
    const seconds = reply.elapsedTime / 1000;
    deps.metrics.recordAdmission(summary.result, summary.dryRun, seconds);
    if (summary.injected.length > 0) {
      deps.metrics.recordInjections(summary.injected, summary.dryRun);
    }
    if (summary.denial !== undefined) {
      deps.metrics.recordDenial(summary.denial.policy ?? '', summary.denial.code, summary.dryRun);
    }
    logAdmission(deps.logger, summary, reply.elapsedTime);
    return reply.type(REVIEW_CONTENT_TYPE).send(joinReview(summary.json, summary.uid));
  });

  app.get('/healthz', (_request, reply) => reply.send({ alive: true }));

  app.get('/readyz', (_request, reply) => {
    const report = deps.readiness();
    return reply.code(report.ready ? 200 : 503).send(report);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });

  return app;
}

/** WebhookApp is what buildApp returns. */
export type WebhookApp = ReturnType<typeof buildApp>;

/**
 * The baseline the bench compares tandem with: a bare fastify HTTPS server on the same
 * certificate and body limit that parses the review (fastify's JSON parser, as tandem's)
 * and answers a fixed allowed response with the request's uid. The gap between it and
 * tandem is what tandem's own work costs; everything below (TLS, HTTP, JSON.parse of the
 * body) is Node's and the same for both.
 *
 *   node bench/baseline.ts --port N --tls-cert FILE --tls-key FILE
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

// tandem's DEFAULT_BODY_LIMIT (src/server/app.ts), written out so that the baseline loads
// nothing of tandem and its RSS is fastify's alone.
const BODY_LIMIT = 7 * 1024 * 1024;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'tls-cert': { type: 'string', default: '' },
    'tls-key': { type: 'string', default: '' },
  },
});

function uidOf(body: unknown): string {
  if (typeof body !== 'object' || body === null || !('request' in body)) return '';
  const request = body.request;
  if (typeof request !== 'object' || request === null || !('uid' in request)) return '';
  return typeof request.uid === 'string' ? request.uid : '';
}

const app = Fastify({
  https: {
    key: await readFile(values['tls-key']),
    cert: await readFile(values['tls-cert']),
    minVersion: 'TLSv1.2',
  },
  bodyLimit: BODY_LIMIT,
});

app.post('/mutate', (request, reply) =>
  reply.send({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: uidOf(request.body), allowed: true },
  }),
);
app.get('/healthz', (_request, reply) => reply.send({ alive: true }));

await app.listen({ host: '127.0.0.1', port: Number(values.port) });
process.once('SIGTERM', () => void app.close());

import t from 'tap';
import { ApiStatusError, getJson, openApiRequest } from '../../src/kube/api-request.ts';
import { recorded, startFakeApiServer } from '../fixtures/kube/fake-apiserver.ts';

// tandem's requests to the apiserver: node:https with what client-node's KubeConfig
// applies, against the fake apiserver on loopback.

t.test('a GET is sent with the kubeconfig credentials and its CA, and parsed', async (t) => {
  const server = await startFakeApiServer();
  t.teardown(() => server.close());
  server.script('version', { json: 'version-kind-1.35.json' });
  const body = await getJson(server.kubeConfig('sa-token'), { path: '/version', idleMs: 5000 });
  t.strictSame(body, JSON.parse(recorded('version-kind-1.35.json')));
  t.equal(server.seen[0]?.authorization, 'Bearer sa-token');
});

t.test("a server whose certificate the kubeconfig's CA did not sign is refused", async (t) => {
  const server = await startFakeApiServer();
  const other = await startFakeApiServer();
  t.teardown(async () => {
    await server.close();
    await other.close();
  });
  server.script('version', { json: 'version-kind-1.35.json' });
  // The other fake's kubeconfig, pointed at this server: its CA is not this server's.
  const kubeConfig = other.kubeConfig();
  const cluster = kubeConfig.getCurrentCluster();
  t.ok(cluster);
  kubeConfig.clusters = kubeConfig.clusters.map((c) => ({ ...c, server: server.url }));
  const error = await getJson(kubeConfig, { path: '/version', idleMs: 5000 }).catch(
    (e: unknown) => e,
  );
  t.match(error, { code: /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/ });
  t.strictSame(server.seen, [], 'nothing was sent to it');
});

t.test('an answer other than 200 is an ApiStatusError carrying the Status message', async (t) => {
  const server = await startFakeApiServer();
  t.teardown(() => server.close());
  server.script('watch', { json: 'status-gone.json', status: 410 });
  const error = await openApiRequest(server.kubeConfig(), {
    path: '/api/v1/namespaces',
    query: { watch: 'true', resourceVersion: '100' },
    idleMs: 5000,
  }).catch((e: unknown) => e);
  t.ok(error instanceof ApiStatusError);
  t.match(error, {
    statusCode: 410,
    message: 'GET /api/v1/namespaces answered 410: too old resource version: 100 (150)',
  });
});

t.test(
  'a request that receives nothing for idleMs fails, and so frees its connection',
  async (t) => {
    const server = await startFakeApiServer();
    t.teardown(() => server.close());
    // The watch is answered, then held with nothing sent, as a dead connection would be.
    server.script('watch', { events: 'watch-none.ndjson', then: 'hold' });
    const started = Date.now();
    const error = await getJson(server.kubeConfig(), {
      path: '/api/v1/namespaces',
      query: { watch: 'true' },
      idleMs: 200,
    }).catch((e: unknown) => e);
    t.match(error, { message: /nothing received for 200 ms/ });
    t.ok(Date.now() - started < 5000, 'well before any default timeout');
  },
);

import t, { type Test } from 'tap';
import {
  createNamespaceCache,
  type NamespaceCache,
  type NamespaceCacheEvent,
} from '../../src/kube/namespace-cache.ts';
import {
  eventually,
  startFakeApiServer,
  type FakeApiServer,
} from '../fixtures/kube/fake-apiserver.ts';

// tandem's list and watch, with client-node's KubeConfig, against a fake apiserver on
// loopback: only the server side is scripted. Retries are shortened to keep the test quick; every wait is bounded.
const RETRY_MS = 20;

interface Running {
  readonly server: FakeApiServer;
  readonly cache: NamespaceCache;
  readonly events: NamespaceCacheEvent[];
}

async function setUp(t: Test, script: (server: FakeApiServer) => void): Promise<Running> {
  const server = await startFakeApiServer();
  script(server);
  const events: NamespaceCacheEvent[] = [];
  const cache = createNamespaceCache(server.kubeConfig(), {
    retryMs: RETRY_MS,
    maxRetryMs: 4 * RETRY_MS,
    onEvent: (event) => events.push(event),
  });
  t.teardown(async () => {
    await cache.stop();
    await server.close();
  });
  return { server, cache, events };
}

const routes = (server: FakeApiServer): string[] =>
  server.seen.map((r) => (r.route === 'watch' ? `watch@${r.query['resourceVersion']}` : r.route));

t.test('is synced after the first list, and answers lookups from it', async (t) => {
  const { server, cache, events } = await setUp(t, (s) => {
    s.script('list', { json: 'namespace-list.json' });
    s.script('watch', { events: 'watch-events.ndjson', then: 'hold' });
  });
  t.equal(cache.synced, false, 'not synced before start');
  await cache.start();
  t.equal(cache.synced, true);
  t.strictSame(cache.lookup('shop'), {
    labels: {
      'kubernetes.io/metadata.name': 'shop',
      team: 'payments',
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    },
    annotations: {},
    podSecurityLevel: 'restricted',
  });
  t.equal(cache.lookup('default')?.podSecurityLevel, undefined);
  t.equal(cache.lookup('no-such-namespace'), undefined);
  t.match(events[0], { type: 'synced' });
  t.equal(server.seen[0]?.authorization, 'Bearer test-token', 'the client sends its credentials');
});

t.test('applies ADDED, MODIFIED and DELETED watch events', async (t) => {
  const { server, cache } = await setUp(t, (s) => {
    s.script('list', { json: 'namespace-list.json' });
    s.script('watch', { events: 'watch-events.ndjson', then: 'hold' });
  });
  await cache.start();
  t.ok(await eventually(() => cache.lookup('shop') === undefined), 'shop deleted');
  t.strictSame(cache.lookup('batch')?.labels, {
    'kubernetes.io/metadata.name': 'batch',
    'tandem.dev/logs': 'enabled',
  });
  t.equal(cache.lookup('legacy')?.podSecurityLevel, 'restricted', 'legacy relabelled');
  t.strictSame(routes(server), ['list', 'watch@100'], 'the watch starts at the list');
});

t.test(
  "keeps each namespace's param annotations, no other, and follows their changes",
  async (t) => {
    const { cache } = await setUp(t, (s) => {
      s.script('list', { json: 'namespace-list-params.json' });
      s.script('watch', { events: 'watch-params.ndjson', then: 'hold' });
    });
    await cache.start();
    t.ok(
      await eventually(
        () => cache.lookup('shop')?.annotations['greeter.tandem.dev/greeting'] === 'moin',
      ),
      'the MODIFIED event is applied',
    );
    t.strictSame(
      cache.lookup('shop')?.annotations,
      { 'greeter.tandem.dev/greeting': 'moin' },
      'kubectl last-applied copy and other annotations are not kept',
    );
    t.strictSame(cache.lookup('default')?.annotations, {});
  },
);

t.test(
  'resumes a dropped watch from the last resourceVersion, and relists after 410 Gone',
  async (t) => {
    const { server, cache, events } = await setUp(t, (s) => {
      s.script('list', { json: 'namespace-list.json' }, { json: 'namespace-list-relisted.json' });
      s.script(
        'watch',
        // The TCP connection is cut after three events…
        { events: 'watch-events.ndjson', then: 'drop' },
        // …the resumed watch is told its resourceVersion has been compacted away…
        { events: 'watch-gone.ndjson', then: 'end' },
        // …and after a fresh list the watch goes on from the list's version.
        { events: 'watch-none.ndjson', then: 'hold' },
      );
    });
    await cache.start();
    t.ok(await eventually(() => server.seen.length >= 5), 'list, watch, watch, list, watch');
    t.strictSame(routes(server), ['list', 'watch@100', 'watch@103', 'list', 'watch@200']);
    t.match(
      events.filter((e) => e.type === 'error'),
      [{ type: 'error', retryInMs: RETRY_MS }],
      'the drop is reported once, with its retry delay',
    );
    t.ok(await eventually(() => cache.lookup('analytics') !== undefined), 'relisted');
    t.equal(cache.lookup('batch'), undefined, 'a namespace gone while unwatched is gone');
    t.equal(cache.lookup('legacy')?.podSecurityLevel, 'privileged');
    t.equal(cache.synced, true, 'a relist keeps the cache synced');
  },
);

t.test('relists when the watch request itself answers 410 Gone', async (t) => {
  const { server, cache, events } = await setUp(t, (s) => {
    s.script('list', { json: 'namespace-list.json' }, { json: 'namespace-list-relisted.json' });
    s.script(
      'watch',
      { json: 'status-gone.json', status: 410 },
      { events: 'watch-none.ndjson', then: 'hold' },
    );
  });
  await cache.start();
  t.ok(await eventually(() => server.seen.length >= 4));
  t.strictSame(routes(server), ['list', 'watch@100', 'list', 'watch@200']);
  t.ok(await eventually(() => cache.lookup('analytics') !== undefined));
  t.strictSame(
    events.filter((e) => e.type === 'error'),
    [],
    '410 is routine, not an error',
  );
});

t.test(
  'stays unsynced while the list fails, and retries with backoff until it works',
  async (t) => {
    const { server, cache, events } = await setUp(t, (s) => {
      s.script(
        'list',
        { json: 'status-unavailable.json', status: 503 },
        { json: 'status-unavailable.json', status: 503 },
        { json: 'namespace-list.json' },
      );
      s.script('watch', { events: 'watch-none.ndjson', then: 'hold' });
    });
    const started = cache.start();
    t.ok(await eventually(() => events.length >= 1));
    t.equal(cache.synced, false, 'no lookup is trusted before a list');
    t.equal(cache.lookup('shop'), undefined);
    await started;
    t.equal(cache.synced, true);
    t.ok(await eventually(() => server.seen.length >= 4), 'the watch follows the list');
    t.strictSame(routes(server), ['list', 'list', 'list', 'watch@100']);
    t.strictSame(
      events.map((e) => (e.type === 'error' ? e.retryInMs : e.type)),
      [RETRY_MS, 2 * RETRY_MS, 'synced'],
      'each failure doubles the delay',
    );
  },
);

t.test('stop ends the watch and makes no further requests', async (t) => {
  const { server, cache, events } = await setUp(t, (s) => {
    s.script('list', { json: 'namespace-list.json' });
    s.script('watch', { events: 'watch-none.ndjson', then: 'hold' });
  });
  await cache.start();
  await cache.stop();
  const count = server.seen.length;
  await new Promise((resolve) => setTimeout(resolve, 10 * RETRY_MS));
  t.equal(server.seen.length, count);
  t.strictSame(
    events.filter((e) => e.type === 'error'),
    [],
    'the aborted watch is not reported as a failure',
  );
  t.equal(cache.lookup('shop')?.podSecurityLevel, 'restricted', 'the last view stays readable');
});

t.test(
  'asks for bookmarks and a 5 to 10 minute watch, and resumes from the last bookmark',
  async (t) => {
    const { server, cache, events } = await setUp(t, (s) => {
      s.script('list', { json: 'namespace-list.json' });
      s.script(
        'watch',
        // Nothing changed; the apiserver ends the watch at its timeout after a bookmark…
        { events: 'watch-bookmark.ndjson', then: 'end' },
        // …and the next watch starts from the bookmark's version, with no relist.
        { events: 'watch-none.ndjson', then: 'hold' },
      );
    });
    await cache.start();
    t.ok(await eventually(() => server.seen.length >= 3));
    t.strictSame(routes(server), ['list', 'watch@100', 'watch@150']);
    const watch = server.seen[1]?.query ?? {};
    t.equal(watch['allowWatchBookmarks'], 'true');
    const timeout = Number(watch['timeoutSeconds']);
    t.ok(timeout >= 300 && timeout <= 600, `timeoutSeconds ${timeout} is 5 to 10 minutes`);
    t.strictSame(
      events.map((e) => e.type),
      ['synced'],
      'a watch ended by the server is routine',
    );
    t.equal(cache.lookup('shop')?.podSecurityLevel, 'restricted', 'the bookmark changed nothing');
  },
);

t.test('lists page by page, 500 at a time, and watches from the last page', async (t) => {
  const { server, cache } = await setUp(t, (s) => {
    s.script(
      'list',
      { json: 'namespace-list-page-1.json' },
      { json: 'namespace-list-page-2.json' },
    );
    s.script('watch', { events: 'watch-none.ndjson', then: 'hold' });
  });
  await cache.start();
  t.ok(await eventually(() => server.seen.length >= 3));
  t.strictSame(routes(server), ['list', 'list', 'watch@300']);
  t.strictSame(
    server.seen.slice(0, 2).map((r) => r.query),
    [
      { limit: '500' },
      {
        limit: '500',
        continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MzAwLCJzdGFydCI6ImRlZmF1bHRcdTAwMDAifQ',
      },
    ],
  );
  t.equal(cache.lookup('default')?.podSecurityLevel, undefined, 'the first page is kept');
  t.equal(cache.lookup('shop')?.podSecurityLevel, 'baseline', 'and the second');
});

t.test(
  'an ERROR event other than 410 is reported and the watch resumes from the last version',
  async (t) => {
    const { server, cache, events } = await setUp(t, (s) => {
      s.script('list', { json: 'namespace-list.json' });
      s.script(
        'watch',
        { events: 'watch-error.ndjson', then: 'end' },
        { events: 'watch-none.ndjson', then: 'hold' },
      );
    });
    await cache.start();
    t.ok(await eventually(() => server.seen.length >= 3));
    t.strictSame(routes(server), ['list', 'watch@100', 'watch@100'], 'no relist');
    t.match(
      events.filter((e) => e.type === 'error'),
      [{ error: { statusCode: 500, message: /unable to decode an event/ }, retryInMs: RETRY_MS }],
    );
  },
);

t.test('a watch that ends at once with no event is retried after the backoff', async (t) => {
  const { server, cache, events } = await setUp(t, (s) => {
    s.script('list', { json: 'namespace-list.json' });
    s.script(
      'watch',
      { events: 'watch-none.ndjson', then: 'end' },
      { events: 'watch-none.ndjson', then: 'end' },
      { events: 'watch-none.ndjson', then: 'hold' },
    );
  });
  await cache.start();
  t.ok(await eventually(() => server.seen.length >= 4));
  t.strictSame(routes(server), ['list', 'watch@100', 'watch@100', 'watch@100']);
  t.strictSame(
    events.map((e) => (e.type === 'error' ? e.retryInMs : e.type)),
    ['synced', RETRY_MS, 2 * RETRY_MS],
    'reported each time, backing off: never a loop of reconnects',
  );
});

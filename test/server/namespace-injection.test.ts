import t from 'tap';
import { startClusterServe, type ClusterServe } from '../fixtures/kube/cluster-serve.ts';
import { MESH_POLICIES } from '../fixtures/mesh-policies.ts';
import { sendReview } from '../fixtures/reviews/harness.ts';
import { reviewFor } from '../fixtures/reviews/reviews.ts';

// Namespace-level injection through the real `tandem serve` in cluster mode: the fake
// apiserver lists namespace "mesh" labelled tandem.dev/injection=enabled and "plain"
// without the label, then later labels "plain" on the open watch.

interface Answer {
  readonly allowed: boolean;
  readonly injected: string[];
}

function pod(labels: Record<string, string> = {}, annotations: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'web-', labels, annotations },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
  };
}

async function admit(serve: ClusterServe, namespace: string, object: unknown): Promise<Answer> {
  const reply = await sendReview(
    { port: serve.port, ca: serve.ca },
    reviewFor(object, { namespace }),
  );
  const { response } = JSON.parse(reply.text) as {
    response: { allowed: boolean; auditAnnotations?: Record<string, string> };
  };
  const injected = response.auditAnnotations?.['injected-policies'] ?? '';
  return { allowed: response.allowed, injected: injected === '' ? [] : injected.split(',') };
}

t.test('tandem serve in cluster mode injects by namespace label', async (t) => {
  const serve = await startClusterServe(t, {
    versionFile: 'version-kind-1.35.json',
    namespaceList: 'namespace-list-mesh.json',
    policies: { 'mesh.yaml': MESH_POLICIES },
  });

  t.test('a namespace labelled for injection gets its pods injected', async (t) => {
    t.strictSame(await admit(serve, 'mesh', pod()), { allowed: true, injected: ['mesh-proxy'] });
  });

  t.test('a pod in it that opts out does not, by annotation or by label', async (t) => {
    const byAnnotation = pod({}, { 'tandem.dev/inject': 'false' });
    t.strictSame(await admit(serve, 'mesh', byAnnotation), { allowed: true, injected: [] });
    const byLabel = pod({ 'tandem.dev/inject': 'false' });
    t.strictSame(await admit(serve, 'mesh', byLabel), { allowed: true, injected: [] });
  });

  t.test('an unlabelled namespace gets nothing', async (t) => {
    t.strictSame(await admit(serve, 'plain', pod()), { allowed: true, injected: [] });
  });

  t.test('a namespace label change is seen without a restart', async (t) => {
    serve.fake.push('watch-label-plain.ndjson');
    let answer: Answer = { allowed: false, injected: [] };
    for (let tries = 0; tries < 100 && answer.injected.length === 0; tries += 1) {
      answer = await admit(serve, 'plain', pod());
      if (answer.injected.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The same process, no restart: the watch event reached the namespace cache.
    t.strictSame(answer, { allowed: true, injected: ['mesh-proxy'] });
  });
});

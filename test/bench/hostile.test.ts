import t from 'tap';
import path from 'node:path';
import { HOSTILE_BYTES, hostileBodies } from '../../bench/hostile-bodies.ts';
import { admitPod } from '../../src/admission/pod.ts';
import { parseReview } from '../../src/admission/review.ts';
import { staticNamespaces } from '../../src/kube/static-namespaces.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';

t.test('every hostile bench review gets the answer the bench expects of it', async (t) => {
  const policies = await loadPolicies(path.join(REPO_ROOT, 'policies'));
  const env = {
    getPolicies: () => policies,
    namespaces: staticNamespaces({}),
    sidecars: { sidecarMode: 'native' as const, nativeSidecarsSupported: true },
  };
  for (const body of hostileBodies()) {
    const parsed = parseReview(JSON.parse(JSON.stringify(body.review)));
    if (!parsed.ok) throw new Error(`${body.name}: ${parsed.message}`);
    const admission = admitPod(parsed.review.request, env);
    t.equal(
      admission.result,
      body.expect,
      `${body.name}: ${admission.answer.status?.message ?? ''}`,
    );
  }
});

t.test('the largest hostile review is 1.5 MiB, made of annotations', (t) => {
  const [largest] = hostileBodies();
  const bytes = Buffer.byteLength(JSON.stringify(largest?.review));
  t.ok(bytes > HOSTILE_BYTES * 0.98 && bytes <= HOSTILE_BYTES, `${bytes} bytes`);
  const request = largest?.review['request'] as { object: { metadata: { annotations: object } } };
  const annotations = Buffer.byteLength(JSON.stringify(request.object.metadata.annotations));
  t.ok(annotations > bytes * 0.95, `${annotations} bytes of it are annotations`);
  t.end();
});

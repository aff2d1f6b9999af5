import fc from 'fast-check';
import t from 'tap';
import type { ReviewJsonParts } from '../../src/admission/response.ts';
import type { NamespaceInfo } from '../../src/kube/namespaces.ts';
import { namespaceInfo } from '../../src/kube/namespaces.ts';
import type { PolicySet } from '../../src/policy/compile.ts';
import { AnswerCache, reviewKey, type CachedAnswer } from '../../src/server/answer-cache.ts';
import { policySet } from '../fixtures/policies.ts';
import { redisPod, reviewFor, type ReviewOptions } from '../fixtures/reviews/reviews.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';

// The answer cache's key and store, without a server: what makes two reviews share an
// answer, and what makes a kept answer stale.

const UID = '705ab4f5-6393-11e8-b7cc-42010a800002';

/** reviewKeyOf keys a body given as text, as its UTF-8 bytes arrive. */
function reviewKeyOf(text: string) {
  return reviewKey(Buffer.from(text));
}

function reviewText(uid: string, options: ReviewOptions = {}): string {
  return JSON.stringify(reviewFor(redisPod(), { ...options, uid }));
}

t.test('reviewKey finds the uid where the apiserver writes it', (t) => {
  const key = reviewKeyOf(reviewText(UID));
  t.strictSame(key?.uid, UID);
  t.strictSame(key?.apiVersion, 'admission.k8s.io/v1');
  const beta = reviewKeyOf(reviewText(UID, { apiVersion: 'admission.k8s.io/v1beta1' }));
  t.strictSame(beta?.apiVersion, 'admission.k8s.io/v1beta1');
  t.not(beta?.key, key?.key, 'the version is part of the key');
  t.end();
});

t.test('reviews that differ only in their uid share a key', (t) => {
  const first = reviewKeyOf(reviewText(UID));
  const second = reviewKeyOf(reviewText('0c6f7a8e-31d5-4b8e-9a7e-2f5b0d4c9e11'));
  t.ok(first !== undefined && second !== undefined);
  t.strictSame(first?.key, second?.key);
  t.not(first?.uid, second?.uid);
  t.end();
});

t.test('a change to any other character of the review changes the key', (t) => {
  const text = reviewText(UID);
  const uidAt = text.indexOf(UID);
  const original = reviewKeyOf(text)?.key;
  const positions = fc
    .integer({ min: 0, max: text.length - 1 })
    .filter((at) => at < uidAt || at >= uidAt + UID.length);
  fc.assert(
    fc.property(positions, fc.constantFrom('x', '0', ' ', '"', '\u00e9'), (at, character) => {
      fc.pre(text[at] !== character);
      const changed = text.slice(0, at) + character + text.slice(at + 1);
      // Either the start no longer reads as the apiserver's layout (no key), or the key differs.
      return reviewKeyOf(changed)?.key !== original;
    }),
    { numRuns: 2000 },
  );
  // Every position, not only sampled ones, in the review's tail (the pod itself).
  for (let at = uidAt + UID.length; at < text.length; at += 1) {
    const changed = text.slice(0, at) + (text[at] === 'x' ? 'y' : 'x') + text.slice(at + 1);
    if (reviewKeyOf(changed)?.key === original) t.fail(`position ${at} is not in the key`);
  }
  t.end();
});

t.test('a body not laid out as the apiserver writes it has no key', (t) => {
  const review = reviewFor(redisPod(), { uid: UID });
  const { kind, apiVersion, request } = review;
  t.equal(
    reviewKeyOf(JSON.stringify({ apiVersion, kind, request })),
    undefined,
    'apiVersion first',
  );
  t.equal(reviewKeyOf(JSON.stringify(review, null, 2)), undefined, 'indented');
  t.equal(reviewKeyOf(reviewText('a"b')), undefined, 'a uid JSON escapes');
  t.equal(reviewKeyOf(reviewText('a\\u0041')), undefined, 'a uid with an escape');
  t.equal(reviewKeyOf(reviewText('')), undefined, 'an empty uid');
  const v2 = reviewText(UID).replace('admission.k8s.io/v1', 'admission.k8s.io/v2');
  t.equal(reviewKeyOf(v2), undefined, 'a version tandem does not answer');
  t.end();
});

const POLICIES = policySet(TEST_POLICIES);
const NAMESPACE = namespaceInfo({ 'kubernetes.io/metadata.name': 'shop' });

function answer(
  tailLength: number,
  world: { policies?: PolicySet; namespaceInfo?: NamespaceInfo } = {},
): CachedAnswer {
  const json: ReviewJsonParts = { head: '{"uid":"', tail: `"${'x'.repeat(tailLength)}}` };
  return {
    json,
    apiVersion: 'admission.k8s.io/v1',
    result: 'allowed',
    injected: [],
    pod: 'cart-',
    denial: undefined,
    message: undefined,
    namespace: 'shop',
    dryRun: false,
    policies: world.policies ?? POLICIES,
    namespaceInfo: world.namespaceInfo ?? NAMESPACE,
  };
}

const served = { policies: () => POLICIES, namespace: () => NAMESPACE };

/** keep sets an answer twice: the cache keeps an answer the second time its key comes. */
function keep(cache: AnswerCache, key: string, kept: CachedAnswer): void {
  cache.set(key, kept);
  cache.set(key, kept);
}

t.test('an answer is kept the second time its review comes, not the first', (t) => {
  const cache = new AnswerCache();
  cache.set('k', answer(10));
  t.equal(cache.get('k', served), undefined, 'a review seen once is not kept');
  t.equal(cache.size, 0);
  cache.set('k', answer(10));
  t.ok(cache.get('k', served), 'its second coming is');
  for (let i = 0; i < 5000; i += 1) cache.set(`once-${i}`, answer(10));
  t.equal(cache.size, 1, 'five thousand reviews seen once keep nothing');
  cache.set('once-0', answer(10));
  t.equal(cache.get('once-0', served), undefined, 'and the oldest of them are forgotten');
  cache.set('once-4999', answer(10));
  t.ok(cache.get('once-4999', served), 'while the newest are remembered');
  t.end();
});

t.test('a kept answer is used only with the policies and namespace it was made with', (t) => {
  const cache = new AnswerCache();
  keep(cache, 'k', answer(10));
  t.ok(cache.get('k', served), 'the same policy set and namespace');
  const reloaded = policySet(TEST_POLICIES);
  t.equal(cache.get('k', { ...served, policies: () => reloaded }), undefined, 'a reloaded set');
  t.equal(cache.size, 0, 'and a stale answer is dropped');
  keep(cache, 'k', answer(10));
  const relabelled = namespaceInfo({ 'kubernetes.io/metadata.name': 'shop', team: 'a' });
  t.equal(
    cache.get('k', { ...served, namespace: () => relabelled }),
    undefined,
    'a changed namespace',
  );
  keep(cache, 'k', answer(10));
  t.equal(
    cache.get('k', { ...served, namespace: () => undefined }),
    undefined,
    'a deleted namespace',
  );
  t.end();
});

t.test('the cache stays within its byte budget, the oldest answers leaving first', (t) => {
  const cache = new AnswerCache(10_000);
  for (let i = 0; i < 20; i += 1) keep(cache, `k${i}`, answer(1000));
  t.ok(cache.bytes <= 10_000, `${cache.bytes} bytes kept`);
  t.ok(cache.size >= 3, `${cache.size} answers kept`);
  t.equal(cache.get('k0', served), undefined, 'the oldest left');
  t.ok(cache.get('k19', served), 'the newest stayed');
  keep(cache, 'huge', answer(20_000));
  t.equal(cache.get('huge', served), undefined, 'an answer larger than the budget is not kept');
  t.ok(cache.get('k19', served), 'and does not push the others out');
  const replaced = new AnswerCache(10_000);
  keep(replaced, 'k', answer(1000));
  const before = replaced.bytes;
  keep(replaced, 'k', answer(1000));
  t.equal(replaced.bytes, before, 'setting a key again replaces its answer');
  const off = new AnswerCache(0);
  keep(off, 'k', answer(1));
  t.equal(off.size, 0, 'a budget of 0 keeps nothing');
  t.end();
});

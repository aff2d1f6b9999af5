/**
 * The answer cache. The pods of one ReplicaSet reach the webhook as one review but for
 * `request.uid`: at mutating admission a pod has only its generateName, no name, uid or
 * creation time (the apiserver sets those when it stores the pod, after admission), and
 * the apiserver encodes the rest of the review the same way each time. Such a review is
 * answered from here without parsing its body or running the engine; the answer is the
 * one the first of them got, with the new uid.
 *
 * The key is the review's text with the uid cut out, as a SHA-256 digest: two reviews
 * share a key only if every other byte is the same. It is taken only when the body
 * starts the way the apiserver writes a review (Go's encoding of AdmissionReview: `kind`,
 * `apiVersion`, then `request` with `uid` first), which fixes where the uid is without a
 * parse. Anything else is parsed and answered as always and never cached. The opening
 * quote of the uid is part of that fixed start, its closing quote is in the digest.
 *
 * An answer also depends on what the server holds: the policy set and the namespace's
 * labels and annotations. A cached answer keeps the objects it was computed with and is
 * used only while they are still the ones served (both are swapped, never edited, when
 * they change); the sidecar mode is decided once per process.
 */
import { hash } from 'node:crypto';
import type { AdmissionResult } from '../admission/pod.ts';
import type { AdmissionVersion } from '../admission/review.ts';
import type { NamespaceInfo } from '../kube/namespaces.ts';
import type { PolicySet } from '../policy/compile.ts';
import type { AdmissionOutcome, AdmissionSummary } from './admission-summary.ts';

// The review's first bytes as the apiserver writes them. A uid is a UUID; the class
// holds no character JSON escapes, so the captured text is the uid's value itself.
const APISERVER_LAYOUT =
  /^\{"kind":"AdmissionReview","apiVersion":"(admission\.k8s\.io\/v1(?:beta1)?)","request":\{"uid":"([0-9A-Za-z-]{1,128})"/;

/** ReviewKey is where a review's text puts its uid, and the digest of everything else. */
export interface ReviewKey {
  readonly key: string;
  readonly apiVersion: AdmissionVersion;
  readonly uid: string;
}

// The layout's longest match: the fixed text, the longer version and a 128-character uid.
const LAYOUT_MAX_BYTES = 256;

/**
 * reviewKey keys a review's body, or says undefined when the body does not start as the
 * apiserver writes a review. It reads the bytes as they came: the start as latin1 (one
 * character a byte, so the ASCII pattern matches exactly those bytes) and the digest over
 * the rest, so a review answered from the cache is never decoded as text.
 */
export function reviewKey(body: Buffer): ReviewKey | undefined {
  const match = APISERVER_LAYOUT.exec(body.toString('latin1', 0, LAYOUT_MAX_BYTES));
  if (match === null) return undefined;
  const [head, apiVersion, uid] = match;
  if (
    uid === undefined ||
    (apiVersion !== 'admission.k8s.io/v1' && apiVersion !== 'admission.k8s.io/v1beta1')
  ) {
    return undefined;
  }
  // What precedes the uid is fixed by the pattern but for the version, which is in the key.
  const digest = hash('sha256', body.subarray(head.length - 1), 'base64url');
  return { key: `${apiVersion === 'admission.k8s.io/v1' ? '1' : 'b'}${digest}`, apiVersion, uid };
}

/** CachedAnswer is one answered review, without its uid, and what it was computed with. */
export interface CachedAnswer extends AdmissionOutcome {
  readonly result: Exclude<AdmissionResult, 'errored'>;
  /** policies and namespaceInfo are what the answer was computed with. */
  readonly policies: PolicySet;
  readonly namespaceInfo: NamespaceInfo | undefined;
}

/** ServedState is what the server holds now, for a cached answer to be checked against. */
export interface ServedState {
  readonly policies: () => PolicySet;
  readonly namespace: (name: string) => NamespaceInfo | undefined;
}

/**
 * DEFAULT_CACHE_BYTES bounds the answers kept: about 800 answers of a medium pod's size
 * (5 KB). A Deployment rollout needs one entry, and the whole cache is a small part of
 * the memory target (issue 16: 150 MiB in all).
 */
export const DEFAULT_CACHE_BYTES = 4 * 1024 * 1024;

// A key, its Map slot and the entry's fields, besides the answer's text.
const ENTRY_OVERHEAD_BYTES = 256;

function sizeOf(answer: CachedAnswer): number {
  // Two bytes a character: V8's one-byte strings take less, which only leaves room.
  return ENTRY_OVERHEAD_BYTES + 2 * (answer.json.head.length + answer.json.tail.length);
}

/**
 * SEEN_KEYS is how many keys of reviews seen once are remembered, oldest out first: a
 * burst of that many other pods may come between two pods of one ReplicaSet.
 */
const SEEN_KEYS = 4096;

/**
 * AnswerCache keeps answers by review key within a byte budget, the oldest entries
 * leaving first. An answer is kept the second time its key comes: most reviews seen once
 * are of pods no other review repeats (a StatefulSet's, a DaemonSet's, a bare pod's), and
 * keeping each of those for a while made V8 promote and later collect kilobytes per
 * review, which grew the heap threefold on such traffic (measured: 54 to 165 MB
 * committed for a 24 MB live heap). Lookups do not reorder it: the entries that matter
 * are the newest Deployments', and keeping order costs a delete and a set on every hit.
 */
export class AnswerCache {
  readonly #entries = new Map<string, CachedAnswer>();
  readonly #seen = new Set<string>();
  // The same keys in the order they came, as a ring: taking the oldest out of the Set by
  // iterating it walks every slot deleted since its last rehash, a cost per review.
  readonly #seenOrder: string[] = [];
  #seenNext = 0;
  readonly #budget: number;
  #bytes = 0;

  constructor(budgetBytes: number = DEFAULT_CACHE_BYTES) {
    this.#budget = budgetBytes;
  }

  /** get returns the answer for `key` if it was computed with what `served` holds now. */
  get(key: string, served: ServedState): CachedAnswer | undefined {
    const answer = this.#entries.get(key);
    if (answer === undefined) return undefined;
    if (
      answer.policies === served.policies() &&
      answer.namespaceInfo === served.namespace(answer.namespace)
    ) {
      return answer;
    }
    this.#remove(key, answer);
    return undefined;
  }

  /**
   * set keeps `answer` if its key came before (see AnswerCache), else notes the key; an
   * answer larger than the whole budget is not kept.
   */
  set(key: string, answer: CachedAnswer): void {
    if (!this.#seenBefore(key)) return;
    const size = sizeOf(answer);
    if (size > this.#budget) return;
    const old = this.#entries.get(key);
    if (old !== undefined) this.#remove(key, old);
    this.#entries.set(key, answer);
    this.#bytes += size;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#budget) break;
      this.#remove(oldest, entry);
    }
  }

  /** size is the number of answers kept. */
  get size(): number {
    return this.#entries.size;
  }

  /** bytes is what the kept answers count against the budget. */
  get bytes(): number {
    return this.#bytes;
  }

  #seenBefore(key: string): boolean {
    if (this.#seen.delete(key)) return true;
    this.#seen.add(key);
    // A key in the ring whose answer was kept since is no longer in the Set: deleting it
    // again does nothing.
    const oldest = this.#seenOrder[this.#seenNext];
    if (oldest !== undefined) this.#seen.delete(oldest);
    this.#seenOrder[this.#seenNext] = key;
    this.#seenNext = (this.#seenNext + 1) % SEEN_KEYS;
    return false;
  }

  #remove(key: string, answer: CachedAnswer): void {
    this.#entries.delete(key);
    this.#bytes -= sizeOf(answer);
  }
}

/**
 * remember keeps a review's answer for the reviews that differ from it only in their
 * uid. The key's uid and version must be the parsed review's: a body that repeats
 * `uid` in its request (which JSON.parse resolves to the last) is not kept. An errored
 * answer is not kept either: it says a bug, and the next review should meet it afresh.
 */
export function remember(
  answers: AnswerCache,
  key: ReviewKey,
  summary: AdmissionSummary,
  served: ServedState,
): void {
  const { result } = summary;
  if (result === 'errored' || key.uid !== summary.uid || key.apiVersion !== summary.apiVersion) {
    return;
  }
  answers.set(key.key, {
    json: summary.json,
    apiVersion: summary.apiVersion,
    result,
    injected: summary.injected,
    pod: summary.pod,
    namespace: summary.namespace,
    dryRun: summary.dryRun,
    denial: summary.denial,
    message: summary.message,
    // Read in the same turn as the admission: a reload or a namespace event lands between
    // two reviews, never inside one.
    policies: served.policies(),
    namespaceInfo: served.namespace(summary.namespace),
  });
}

/** fromCache is the summary of a review answered from the cache. */
export function fromCache(answer: CachedAnswer, uid: string): AdmissionSummary {
  return { ...answer, uid, cached: true };
}

import t from 'tap';
import { isPodCreate } from '../../src/admission/pod.ts';
import {
  allowed,
  denied,
  encodeReview,
  encodeReviewParts,
  errored,
  joinReview,
  patched,
} from '../../src/admission/response.ts';
import { parseReview } from '../../src/admission/review.ts';
import { reviewFor, plainPod } from '../fixtures/reviews/reviews.ts';

t.test('encodeReview echoes the uid in the version asked', (t) => {
  t.strictSame(encodeReview('admission.k8s.io/v1beta1', 'u-1', allowed()), {
    apiVersion: 'admission.k8s.io/v1beta1',
    kind: 'AdmissionReview',
    response: { uid: 'u-1', allowed: true },
  });
  t.end();
});

t.test('patched carries a base64 JSON Patch, and an empty patch is a plain allow', (t) => {
  const ops = [{ op: 'add' as const, path: '/metadata/labels', value: { a: 'b' } }];
  const answer = patched(ops, { warnings: ['w'], auditAnnotations: { 'injected-policies': 'x' } });
  t.equal(answer.patchType, 'JSONPatch');
  t.strictSame(JSON.parse(Buffer.from(answer.patch ?? '', 'base64').toString('utf8')), ops);
  t.strictSame(answer.warnings, ['w']);
  t.strictSame(patched([]), { allowed: true });
  t.end();
});

t.test(
  'denied is 403 Forbidden with its code as the cause; errored is 400 or 500; both refuse',
  (t) => {
    t.strictSame(denied('no', 'UnknownPolicy'), {
      allowed: false,
      status: {
        code: 403,
        reason: 'Forbidden',
        message: 'no',
        details: { causes: [{ reason: 'UnknownPolicy' }] },
      },
    });
    t.match(errored(400, 'bad'), { allowed: false, status: { code: 400, reason: 'BadRequest' } });
    t.match(errored(500, 'bug'), {
      allowed: false,
      status: { code: 500, reason: 'InternalError' },
    });
    t.strictSame(allowed({ warnings: [] }), { allowed: true }, 'empty extras are left out');
    t.end();
  },
);

t.test('parseReview refuses what cannot be answered and reads the rest', (t) => {
  t.equal(parseReview(null).ok, false);
  t.equal(parseReview({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' }).ok, false);
  t.equal(
    parseReview({
      kind: 'AdmissionReview',
      apiVersion: 'admission.k8s.io/v1',
      request: { uid: '' },
    }).ok,
    false,
  );
  const parsed = parseReview(reviewFor(plainPod(), { uid: 'x', dryRun: true, namespace: 'ns' }));
  t.match(parsed, { ok: true, review: { request: { uid: 'x', dryRun: true, namespace: 'ns' } } });
  t.end();
});

t.test('only a Pod CREATE without a subresource is a pod create', (t) => {
  const request = (options: Parameters<typeof reviewFor>[1]) => {
    const parsed = parseReview(reviewFor(plainPod(), options));
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.review.request;
  };
  t.equal(isPodCreate(request({})), true);
  t.equal(isPodCreate(request({ operation: 'UPDATE' })), false);
  t.equal(isPodCreate(request({ subResource: 'binding' })), false);
  t.equal(isPodCreate(request({ kind: { group: 'apps', version: 'v1', kind: 'Pod' } })), false);
  t.end();
});

t.test(
  'encodeReviewParts, joined with the uid, writes the same review as encodeReview, in one pass, for every answer shape',
  (t) => {
    const ops = [{ op: 'add' as const, path: '/metadata/labels', value: { a: '"</>&\u2028' } }];
    const answers = [
      allowed(),
      allowed({ warnings: ['w "quoted"'] }),
      denied('no "way"', 'UnknownPolicy', { warnings: ['w'] }),
      errored(500, 'bug'),
      patched(ops, { warnings: ['w'], auditAnnotations: { 'injected-policies': 'x' } }),
      patched(ops),
    ];
    for (const answer of answers) {
      const text = joinReview(encodeReviewParts('admission.k8s.io/v1', answer), 'u-"1');
      t.strictSame(
        JSON.parse(text),
        JSON.parse(JSON.stringify(encodeReview('admission.k8s.io/v1', 'u-"1', answer))),
      );
    }
    t.end();
  },
);

/**
 * Issue 9, item 1: one pod's annotations must not freeze the webhook. Each cap denies,
 * naming the annotation and the limit, before the work it bounds; where no cap applies,
 * the cost grows linearly with the pod.
 */
import t from 'tap';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { injectPod } from '../../src/inject/engine.ts';
import { countListed } from '../../src/inject/request-limits.ts';
import { parseInjectAnnotation } from '../../src/inject/select.ts';
import { denial, type DenialCode } from '../../src/denial.ts';
import type { InjectResult } from '../../src/inject/types.ts';
import { appPod } from '../fixtures/pods.ts';
import { countArrayScans } from '../fixtures/scans.ts';
import { context, policySet } from '../fixtures/policies.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';

const policies = policySet(TEST_POLICIES);
const SHIPPER = { 'tandem.dev/inject': 'shipper', 'shipper.tandem.dev/dest': 'logs.example:24224' };

function run(pod: V1Pod): InjectResult {
  return injectPod(pod, policies, context());
}

function denied(code: DenialCode, reason: string, policy?: string): InjectResult {
  return { outcome: 'denied', ...denial(code, reason, policy), warnings: [] };
}

function podWithContainers(annotations: Record<string, string>, count: number): V1Pod {
  const pod = appPod(annotations);
  const containers: V1Container[] = [];
  for (let i = 0; i < count; i += 1) containers.push({ name: `c${i}`, image: 'app:1' });
  if (pod.spec !== undefined) pod.spec.containers = containers;
  return pod;
}

t.test(
  'tandem.dev/inject may request at most 32 policies; more is denied before any is looked up',
  (t) => {
    // 60,000 names of policies that do not exist, under the API server's 256 KiB: only the
    // cap can answer this first, and it answers without a lookup.
    const names = Array.from({ length: 60_000 }, (_, i) => i.toString(36)).join(',');
    t.ok(names.length < 256 * 1024, `the annotation is ${names.length} bytes`);
    t.strictSame(
      run(appPod({ 'tandem.dev/inject': names })),
      denied(
        'TooManyPolicies',
        'annotation tandem.dev/inject lists more than 32 policies; at most 32 may be requested',
      ),
    );
    t.equal(countListed(names, 32), 33, 'counting stops at the first name over the cap');
    const thirtyThree = Array.from({ length: 33 }, () => 'shipper').join(', ');
    t.strictSame(
      run(appPod({ ...SHIPPER, 'tandem.dev/inject': thirtyThree })),
      denied(
        'TooManyPolicies',
        'annotation tandem.dev/inject lists more than 32 policies; at most 32 may be requested',
      ),
    );
    const thirtyTwo = Array.from({ length: 32 }, () => 'shipper').join(', ');
    t.equal(run(appPod({ ...SHIPPER, 'tandem.dev/inject': thirtyTwo })).outcome, 'patched');
    t.end();
  },
);

t.test('tandem.dev/target-containers may name at most 64 containers; more is denied', (t) => {
  const names = (count: number): string =>
    Array.from({ length: count }, (_, i) => `c${count - 1 - i}`).join(',');
  t.strictSame(
    run(podWithContainers({ ...SHIPPER, 'tandem.dev/target-containers': names(65) }, 65)),
    denied(
      'TooManyTargetContainers',
      'annotation tandem.dev/target-containers names more than 64 containers; at most 64 may be named',
    ),
  );
  const allowed = run(
    podWithContainers({ ...SHIPPER, 'tandem.dev/target-containers': names(64) }, 64),
  );
  t.equal(allowed.outcome, 'patched');
  t.end();
});

t.test('a tandem.dev/status over 64 KiB is denied before it is parsed', (t) => {
  // Not JSON either: the cap, not the parser, must be what answers.
  const status = `{${'x'.repeat(70_000)}`;
  t.strictSame(
    run(appPod({ ...SHIPPER, 'tandem.dev/status': status })),
    denied(
      'StatusTooLarge',
      'annotation tandem.dev/status is 70001 bytes; tandem reads and writes at most 64 KiB',
    ),
  );
  t.end();
});

t.test('tandem never writes a tandem.dev/status longer than it would read back', (t) => {
  // One policy that adds 1,100 containers of 60-character names: a status of about 70 KB.
  const containers = Array.from(
    { length: 1100 },
    (_, i) => `    - {name: ${`c${String(i).padStart(4, '0')}`.padEnd(60, 'x')}, image: agent:1}`,
  ).join('\n');
  const wide = policySet(`
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: wide}
spec:
  pattern: sidecar
  containers:
${containers}
`);
  const result = injectPod(appPod({ 'tandem.dev/inject': 'wide' }), wide, context());
  t.equal(result.outcome === 'denied' ? result.code : result.outcome, 'StatusWouldNotFit');
  t.match(
    result.outcome === 'denied' ? result.reason : '',
    /^the policies would not fit: annotation tandem\.dev\/status is \d+ bytes; tandem reads and writes at most 64 KiB$/,
  );
  t.end();
});

t.test("a pod's annotations over the API server's 256 KiB are denied before anything else", (t) => {
  const annotations: Record<string, string> = { ...SHIPPER };
  for (let i = 0; i < 300; i += 1) annotations[`example.com/a${i}`] = 'v'.repeat(1000);
  const result = run(appPod(annotations));
  t.equal(result.outcome === 'denied' ? result.code : result.outcome, 'AnnotationsTooLarge');
  t.match(
    result.outcome === 'denied' ? result.reason : '',
    /^the pod's annotations total at least \d+ bytes, over the 256 KiB the API server accepts$/,
  );
  // The API server counts bytes of UTF-8: 100,000 euro signs are 300,000 of them.
  t.strictSame(
    run(appPod({ 'example.com/note': '€'.repeat(100_000) })),
    denied(
      'AnnotationsTooLarge',
      "the pod's annotations total at least 300016 bytes, over the 256 KiB the API server accepts",
    ),
  );
  t.end();
});

t.test(
  'a param value over 4096 characters is denied naming the annotation, before its pattern runs',
  (t) => {
    // A value the pattern would refuse too: the length message shows the cap answered.
    const value = `${'a'.repeat(5000)}!`;
    t.strictSame(
      run(appPod({ ...SHIPPER, 'shipper.tandem.dev/dest': value })),
      denied(
        'ParamTooLong',
        'annotation shipper.tandem.dev/dest is 5001 characters long; policy "shipper" accepts at most 4096',
        'shipper',
      ),
    );
    t.end();
  },
);

t.test("a param's own maxLength is enforced like the global cap", (t) => {
  const capped = policySet(`
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: short}
spec:
  pattern: sidecar
  params:
    word: {required: true, pattern: '[a-z]+', maxLength: 8}
  containers:
    - {name: short, image: agent:1, args: ['{{ params.word }}']}
`);
  const ask = (word: string): InjectResult =>
    injectPod(
      appPod({ 'tandem.dev/inject': 'short', 'short.tandem.dev/word': word }),
      capped,
      context(),
    );
  t.equal(ask('abcdefgh').outcome, 'patched');
  t.strictSame(
    ask('abcdefghi'),
    denied(
      'ParamTooLong',
      'annotation short.tandem.dev/word is 9 characters long; policy "short" accepts at most 8',
      'short',
    ),
  );
  t.end();
});

t.test('undeclared param annotations give one warning per policy, however many there are', (t) => {
  const annotations: Record<string, string> = { ...SHIPPER };
  for (let i = 0; i < 10_000; i += 1) annotations[`shipper.tandem.dev/x${i}`] = 'y';
  const result = run(appPod(annotations));
  t.equal(result.outcome, 'patched');
  t.strictSame(
    result.warnings.filter((w) => w.includes('not params of policy')),
    [
      'annotations "shipper.tandem.dev/x0", "shipper.tandem.dev/x1", "shipper.tandem.dev/x2", "shipper.tandem.dev/x3", "shipper.tandem.dev/x4" and 9995 more are not params of policy "shipper" and are ignored',
    ],
  );
  t.end();
});

t.test('a long status against a pod of many containers is checked in linear time', (t) => {
  // The status lists n/4 containers that tandem added earlier (at the front of the init
  // containers), and the pod has n app containers. Looking each container up in the
  // status list visited n × n/4 elements; sets visit none.
  const n = 6000;
  const added = Array.from({ length: n / 4 }, (_, i) => `t${i}`);
  const pod = podWithContainers(
    {
      ...SHIPPER,
      'tandem.dev/status': JSON.stringify({ policies: [], containers: added, volumes: [] }),
    },
    n,
  );
  if (pod.spec !== undefined) {
    pod.spec.initContainers = added.map((name) => ({ name, image: 'earlier:1' }));
  }
  const { result, scanned } = countArrayScans(() => run(pod));
  t.equal(result.outcome, 'patched');
  const input = n + added.length * 2;
  t.ok(scanned < 10 * input, `visited ${scanned} elements for ${input} in the pod`);
  t.end();
});

t.test('tandem.dev/target-containers is matched to the containers in linear time', (t) => {
  const n = 10_000;
  const targets = Array.from({ length: 64 }, (_, i) => `c${n - 1 - i}`).join(',');
  const pod = podWithContainers({ ...SHIPPER, 'tandem.dev/target-containers': targets }, n);
  const { result, scanned } = countArrayScans(() => run(pod));
  t.equal(result.outcome, 'patched');
  t.ok(scanned < 10 * n, `visited ${scanned} elements for ${n} containers`);
  t.end();
});

t.test('duplicate names in tandem.dev/inject are found in linear time', (t) => {
  // Below the cap no list is long, so this holds the parser on its own.
  const names = Array.from({ length: 20_000 }, (_, i) => `p${i % 10_000}`).join(',');
  const { result, scanned } = countArrayScans(() => parseInjectAnnotation(names));
  t.equal(result.names.length, 10_000);
  t.equal(result.duplicates.length, 10_000);
  t.ok(scanned < 10 * 20_000, `visited ${scanned} elements for 20,000 names`);
  t.end();
});

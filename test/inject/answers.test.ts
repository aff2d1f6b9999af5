/**
 * Issue 10 case 11: what a pod's author reads when tandem says no. An empty target list is
 * refused rather than targeting nothing, echoed values are cut, and a refused param value
 * is answered with the param's description and an example rather than its pattern.
 */
import path from 'node:path';
import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { injectPod } from '../../src/inject/engine.ts';
import { quoteValue } from '../../src/inject/quote.ts';
import type { InjectResult } from '../../src/inject/types.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import type { SidecarPolicy } from '../../src/policy/schema.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { appPod } from '../fixtures/pods.ts';
import { context, policySet } from '../fixtures/policies.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';

const builtins = await loadPolicies(path.join(REPO_ROOT, 'policies'));
const policies = policySet(TEST_POLICIES);
const SHIPPER = {
  'tandem.dev/inject': 'shipper',
  'shipper.tandem.dev/dest': 'logs.example:24224',
  'shipper.tandem.dev/level': 'info',
};
const HUGE = 'x'.repeat(60 * 1024);

function reason(result: InjectResult): string {
  return result.outcome === 'denied' ? result.reason : `not denied: ${result.outcome}`;
}

function run(pod: V1Pod): InjectResult {
  return injectPod(pod, policies, context());
}

t.test('an empty tandem.dev/target-containers is denied, naming the annotation', (t) => {
  for (const value of ['', ' ', ' , ,']) {
    const result = run(appPod({ ...SHIPPER, 'tandem.dev/target-containers': value }));
    t.strictSame(
      result.outcome === 'denied' ? result.code : result.outcome,
      'TargetContainersEmpty',
    );
    t.strictSame(
      reason(result),
      "annotation tandem.dev/target-containers names no container: name at least one of the pod's containers, or remove the annotation to target all of them",
      JSON.stringify(value),
    );
  }
  t.end();
});

t.test('values echoed in answers are cut to 100 characters, with their length', (t) => {
  t.strictSame(quoteValue('short'), '"short"');
  t.strictSame(quoteValue('y'.repeat(100)), JSON.stringify('y'.repeat(100)));
  t.strictSame(quoteValue(HUGE), `"${'x'.repeat(100)}"… (61440 characters)`);
  const emoji = `${'a'.repeat(99)}😀tail`;
  t.strictSame(quoteValue(emoji), `"${'a'.repeat(99)}"… (105 characters)`, 'no half emoji');

  // A param value over the length cap is refused without being echoed at all (issue 9);
  // one under it that the pattern refuses is echoed, cut.
  t.strictSame(
    reason(run(appPod({ ...SHIPPER, 'shipper.tandem.dev/dest': HUGE }))),
    'annotation shipper.tandem.dev/dest is 61440 characters long; policy "shipper" accepts at most 4096',
  );
  const answers = [
    reason(run(appPod({ ...SHIPPER, 'shipper.tandem.dev/dest': HUGE.slice(0, 4000) }))),
    reason(run(appPod({ 'tandem.dev/inject': HUGE }))),
    reason(run(appPod({ ...SHIPPER, 'tandem.dev/target-containers': HUGE }))),
    run(appPod({ ...SHIPPER, [`shipper.tandem.dev/${HUGE}`]: '1' })).warnings.join('\n'),
  ];
  for (const answer of answers) {
    t.match(answer, /"… \(\d{4,5} characters\)/, answer.slice(0, 120));
    t.ok(answer.length < 600, `${answer.length} characters`);
  }
  t.end();
});

t.test(
  "a refused param value is answered with the param's description and example, not its pattern",
  (t) => {
    const pod = appPod({
      'tandem.dev/inject': 'redis-ambassador',
      'redis-ambassador.tandem.dev/upstreams': 'redis-0.cache:6379;rm',
    });
    t.strictSame(
      reason(injectPod(pod, builtins, context())),
      'annotation redis-ambassador.tandem.dev/upstreams has value "redis-0.cache:6379;rm", which policy "redis-ambassador" does not accept. Wanted: One to sixteen HOST:PORT entries of the Redis servers to shard over, separated by commas without spaces; HOST a lowercase DNS name or an IPv4 address. Example: redis-0.cache:6379,redis-1.cache:6379',
    );
    t.end();
  },
);

t.test('an upstreams list with a space after a comma is told about the space', (t) => {
  const pod = appPod({
    'tandem.dev/inject': 'redis-ambassador',
    'redis-ambassador.tandem.dev/upstreams': 'redis-0.cache:6379, redis-1.cache:6379',
  });
  t.match(
    reason(injectPod(pod, builtins, context())),
    /^annotation redis-ambassador\.tandem\.dev\/upstreams has value "redis-0\.cache:6379, redis-1\.cache:6379", which policy "redis-ambassador" does not accept: it has a space at character 20; without the whitespace it would be accepted\. Wanted: /,
  );
  const tab = appPod({ ...SHIPPER, 'shipper.tandem.dev/dest': 'logs\t:1;' });
  t.match(
    reason(run(tab)),
    /: it has whitespace at character 5\. Wanted: /,
    'and says no more when that is not enough',
  );
  t.end();
});

t.test('a param with no description or example falls back to its pattern, cut', (t) => {
  const pattern = `(?:${'[a-z]'.repeat(80)})`;
  const long = policySet(`
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: long}
spec:
  pattern: sidecar
  params:
    word: {required: true, pattern: '${pattern}'}
  containers: [{name: long, image: 'x:1', env: [{name: W, value: '{{ params.word }}'}]}]
`);
  const pod = appPod({ 'tandem.dev/inject': 'long', 'long.tandem.dev/word': 'NO' });
  t.strictSame(
    reason(injectPod(pod, long, context())),
    `annotation long.tandem.dev/word has value "NO", which policy "long" does not accept. Wanted: a value matching ${quoteValue(pattern)}`,
  );
  t.end();
});

t.test("a param's example must be a value the param accepts", (t) => {
  const document = {
    apiVersion: 'tandem.dev/v1alpha1',
    kind: 'SidecarPolicy',
    metadata: { name: 'p' },
    spec: {
      pattern: 'sidecar',
      params: {
        host: { required: true, pattern: '[a-z.]+', example: 'Not A Host' },
        port: { type: 'integer', default: '1', pattern: '[0-9a-z]+', example: 'abc' },
      },
      containers: [{ name: 'c', image: 'x:1', args: ['{{ params.host }}', '{{ params.port }}'] }],
    },
  } as unknown as SidecarPolicy;
  const result = compilePolicy(document, { file: 'p.yaml', line: 1 });
  t.strictSame(result.ok ? [] : result.problems, [
    {
      fieldPath: 'spec.params.host.example',
      message: `example "Not A Host" does not match the param's pattern`,
    },
    { fieldPath: 'spec.params.port.example', message: 'example "abc" is not an integer' },
  ]);
  t.end();
});

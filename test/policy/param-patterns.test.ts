/**
 * Issue 9, item 2: no pattern a policy file can hold makes admission super-linear in the
 * value's length. Patterns are matched by RE2 (re2js); what RE2 cannot compile is a load
 * error with file, line and field.
 */
import path from 'node:path';
import t from 'tap';
import { injectPod } from '../../src/inject/engine.ts';
import { quoteValue } from '../../src/inject/quote.ts';
import { compileParamPattern } from '../../src/policy/param-pattern.ts';
import type { InjectResult } from '../../src/inject/types.ts';
import { lintPolicies } from '../../src/policy/lint.ts';
import { buildPolicyDirectory, loadPolicies } from '../../src/policy/load.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { appPod } from '../fixtures/pods.ts';
import { context, policySet } from '../fixtures/policies.ts';

function policyWithPattern(pattern: string): string {
  return `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: echo}
spec:
  pattern: sidecar
  params:
    word:
      required: true
      pattern: '${pattern}'
  containers:
    - {name: echo, image: busybox:1.37.0, env: [{name: WORD, value: '{{ params.word }}'}]}
`;
}

function ask(pattern: string, word: string): InjectResult {
  const policies = policySet(policyWithPattern(pattern));
  const pod = appPod({ 'tandem.dev/inject': 'echo', 'echo.tandem.dev/word': word });
  return injectPod(pod, policies, context());
}

function lintIssues(pattern: string): string[] {
  const result = buildPolicyDirectory([{ file: 'echo.yaml', text: policyWithPattern(pattern) }]);
  return lintPolicies(result).map(
    (i) => `${i.file}:${i.line}:${i.column} ${i.fieldPath}: ${i.message}`,
  );
}

t.test('a nested quantifier such as (a+)+ refuses near-misses without backtracking', (t) => {
  // With a backtracking matcher the 26-character value costs seconds and the 4,000-character
  // one never finishes (the file would then time out rather than pass).
  for (const length of [26, 4000]) {
    const value = `${'a'.repeat(length - 1)}b`;
    t.strictSame(ask('(a+)+', value), {
      outcome: 'denied',
      code: 'ParamInvalid',
      policy: 'echo',
      reason: `annotation echo.tandem.dev/word has value ${quoteValue(value)}, which policy "echo" does not accept. Wanted: a value matching "(a+)+"`,
      warnings: [],
    });
  }
  t.equal(ask('(a+)+', 'a'.repeat(4000)).outcome, 'patched', 'and still accepts a match');
  t.end();
});

t.test('lint refuses a pattern RE2 cannot compile, naming file, line and field', (t) => {
  for (const [pattern, cause] of [
    ['(?=.{1,8}$)[a-z]+', 'invalid or unsupported Perl syntax: `(?=`'],
    ['(?![0-9])[a-z0-9]+', 'invalid or unsupported Perl syntax: `(?!`'],
    ['([a-z])\\1', 'invalid escape sequence: `\\1`'],
  ] as const) {
    t.strictSame(
      lintIssues(pattern),
      [
        `echo.yaml:9:16 spec.params.word.pattern: not a valid regular expression for RE2, which tandem matches in linear time (no lookarounds or backreferences; bound a length with maxLength): error parsing regexp: ${cause}`,
      ],
      pattern,
    );
  }
  t.strictSame(lintIssues('(a+)+'), [], '(a+)+ is linear under RE2, so it is accepted');
  t.end();
});

t.test('the whole value must match, and a pattern cannot splice itself out of the anchors', (t) => {
  t.equal(ask('a|ab', 'ab').outcome, 'patched', 'an alternative that covers the value');
  t.equal(ask('a|ab', 'abc').outcome, 'denied', 'a match of a prefix is not enough');
  t.equal(ask('b', 'abc').outcome, 'denied', 'nor a match inside');
  // Spliced into ^(?:...)$, this pattern read ^(?:x)|(.*)$ and let any value through.
  const issues = lintIssues('x)|(.*');
  t.equal(issues.length, 1);
  t.match(
    issues[0],
    /^echo\.yaml:9:16 spec\.params\.word\.pattern: not a valid regular expression/,
  );
  t.end();
});

t.test('the built-in params keep their length bounds, as maxLength', async (t) => {
  const builtins = await loadPolicies(path.join(REPO_ROOT, 'policies'));
  const maxLengths = [...builtins.byName.values()].flatMap((policy) =>
    [...policy.params.values()]
      .filter((param) => param.maxLength !== undefined)
      .map((param) => `${policy.name}.${param.name}=${String(param.maxLength)}`),
  );
  t.strictSame(maxLengths.sort(), [
    'log-forwarder.host=253',
    'log-forwarder.logDir=200',
    'log-forwarder.secret=253',
    'metrics-adapter.passwordSecret=253',
    'metrics-adapter.redisAddr=300',
    'redis-ambassador.passwordSecret=253',
    'redis-ambassador.upstreams=2048',
  ]);
  // Four 62-character labels and a 2-character one: a DNS name of 254 characters.
  const host = [...Array.from({ length: 4 }, () => 'a'.repeat(62)), 'bb'].join('.');
  t.equal(host.length, 254);
  const pod = appPod({
    'tandem.dev/inject': 'log-forwarder',
    'log-forwarder.tandem.dev/host': host,
  });
  t.strictSame(injectPod(pod, builtins, context()), {
    outcome: 'denied',
    code: 'ParamTooLong',
    policy: 'log-forwarder',
    reason:
      'annotation log-forwarder.tandem.dev/host is 254 characters long; policy "log-forwarder" accepts at most 253',
    warnings: [],
  });
  const fits = appPod({
    'tandem.dev/inject': 'log-forwarder',
    'log-forwarder.tandem.dev/host': host.slice(0, 253).replace(/\.$/, 'b'),
  });
  t.equal(injectPod(fits, builtins, context()).outcome, 'patched');
});

t.test('a default longer than its maxLength is a load error', (t) => {
  const text = policyWithPattern('[a-z]+').replace(
    '      required: true\n',
    '      default: abcdefghij\n      maxLength: 4\n',
  );
  const issues = lintPolicies(buildPolicyDirectory([{ file: 'echo.yaml', text }])).map(
    (i) => `${i.fieldPath}: ${i.message}`,
  );
  t.strictSame(issues, [
    'spec.params.word.default: default "abcdefghij" is longer than the param\'s maxLength 4',
  ]);
  t.end();
});

t.test('a pattern is compiled once per process, whatever the number of params using it', (t) => {
  const port = '[1-9][0-9]{0,3}|[1-5][0-9]{4}';
  const first = compileParamPattern(port);
  const again = compileParamPattern(port);
  t.equal(again, first, 'the second param with that pattern shares the first one’s compile');
  t.ok(first.ok && first.pattern.test('8080') && !first.pattern.test('80800'));
  const broken = compileParamPattern('(?=x)');
  t.equal(compileParamPattern('(?=x)'), broken, 'a refused pattern is refused the same way');
  t.equal(broken.ok, false);
  t.end();
});

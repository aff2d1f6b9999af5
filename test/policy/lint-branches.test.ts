/**
 * `tandem lint --pss` judges every branch of a policy's `$if` conditionals, not only the
 * ones its params' defaults choose: a pod can choose any branch, and gets it injected.
 */
import t from 'tap';
import { lintPolicies, MAX_BRANCH_COMBINATIONS } from '../../src/policy/lint.ts';
import { buildPolicyDirectory } from '../../src/policy/load.ts';

/** policy writes a policy whose `debug` param chooses `ports` and `capabilities.add`. */
function policy(ports: string, add: string, params = ''): string {
  return `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: dbg}
spec:
  pattern: sidecar
  params:
    debug: {default: 'off', pattern: 'on|off|trace', description: Debug mode., example: 'on'}
    mode: {default: a, pattern: 'a|b', description: Mode., example: b}
${params}  containers:
    - name: agent
      image: registry.example/agent:1
      ports:
${ports}
      securityContext:
        runAsUser: 1000
        capabilities:
          add:
${add.replace(/^/gm, '  ')}
      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}}
`;
}

function lint(text: string): string[] {
  const issues = lintPolicies(buildPolicyDirectory([{ file: 'dbg.yaml', text }]), {
    pss: 'restricted',
  });
  return issues.map((issue) => `${issue.line} ${issue.fieldPath}: ${issue.message}`);
}

const PLAIN_PORT = '        - {containerPort: 8080}';
const NO_ADD = "        - $if: {param: mode, equals: b}\n          $then: ['NET_BIND_SERVICE']";

t.test('a violation only a non-default branch renders is reported, naming the values', (t) => {
  // debug defaults to off; only debug=on opens a host port.
  const ports = `${PLAIN_PORT}
        - $if: {param: debug, equals: 'on'}
          $then: [{containerPort: 9999, hostPort: 9999}]`;
  const issues = lint(policy(ports, NO_ADD));
  t.equal(issues.length, 1, issues.join('\n'));
  t.match(issues[0], /^\d+ spec\.containers\[0\]\.securityContext: Pod Security "restricted": /);
  t.match(issues[0], /hostPort/i);
  t.match(issues[0], /\(with debug=on\)$/);
  t.end();
});

t.test('an $else branch and nested conditionals are judged too', (t) => {
  // NET_ADMIN is added when debug is neither on nor off (trace), and mode is b: no value
  // the policy names is that, so lint makes one up.
  const add = `        - $if: {param: debug, equals: 'on'}
          $else:
            - $if: {param: debug, equals: 'off'}
              $else:
                - $if: {param: mode, equals: b}
                  $then: ['NET_ADMIN']`;
  const issues = lint(policy(PLAIN_PORT, add));
  t.equal(issues.length, 1, issues.join('\n'));
  t.match(issues[0], /capabilit/i);
  t.match(issues[0], /\(with debug not on or off, mode=b\)$/);
  t.end();
});

t.test('a violation of the default rendering keeps its plain message, reported once', (t) => {
  const ports = `        - {containerPort: 9999, hostPort: 9999}
        - $if: {param: debug, equals: 'on'}
          $then: [{containerPort: 8081}]`;
  const issues = lint(policy(ports, NO_ADD));
  t.equal(issues.length, 1, issues.join('\n'));
  t.notMatch(issues[0], /\(with /);
  t.end();
});

t.test('a policy whose branches all pass lints clean', (t) => {
  const ports = `${PLAIN_PORT}
        - $if: {param: debug, equals: 'on'}
          $then: [{containerPort: 9999}]`;
  t.strictSame(lint(policy(ports, NO_ADD)), []);
  t.end();
});

t.test('too many combinations to check is itself reported, not passed', (t) => {
  // Nine two-valued params: 512 combinations.
  const names = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'];
  const params = names
    .map((n) => `    ${n}: {default: x, pattern: 'x|y', description: D., example: y}\n`)
    .join('');
  const ports = [
    PLAIN_PORT,
    ...names.map(
      (n, i) =>
        `        - $if: {param: ${n}, equals: y}\n          $then: [{containerPort: ${9000 + i}}]`,
    ),
  ].join('\n');
  const issues = lint(policy(ports, NO_ADD, params));
  t.strictSame(issues, [
    `5 spec: Pod Security "restricted": the policy's conditionals have more than ${MAX_BRANCH_COMBINATIONS} combinations of branches, too many to check each`,
  ]);
  t.end();
});

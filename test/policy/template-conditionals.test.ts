import t from 'tap';
import type { PolicyIssue } from '../../src/errors.ts';
import type { JsonValue } from '../../src/json.ts';
import { parsePolicyText } from '../../src/policy/load.ts';
import { renderTemplate } from '../../src/policy/template.ts';

/** policyText is a one-container policy whose container's fields follow `containerYaml`. */
function policyText(params: string, containerYaml: string, extra = ''): string {
  return [
    'apiVersion: tandem.dev/v1alpha1',
    'kind: SidecarPolicy',
    'metadata: {name: cond}',
    'spec:',
    '  pattern: sidecar',
    '  params:',
    ...params.split('\n').map((line) => `    ${line}`),
    '  containers:',
    '    - name: c',
    '      image: busybox:1.37.0',
    ...containerYaml.split('\n').map((line) => `      ${line}`),
    extra,
  ].join('\n');
}

const PARAMS = [
  "output: {default: forward, pattern: 'forward|stdout'}",
  "tls: {default: 'off', pattern: 'on|off'}",
  "port: {type: integer, default: '24224', pattern: '[0-9]{1,5}'}",
].join('\n');

const ARGS = [
  'args:',
  '  - -i',
  '  - tail',
  '  - $if: {param: output, equals: stdout}',
  '    $then: [-o, stdout]',
  '    $else:',
  '      - -o',
  '      - forward',
  '      - $if: {param: tls, equals: "on"}',
  '        $then: [-p, tls=on, -p, tls.verify=on]',
  '  - -f',
  '  - "1"',
  'ports:',
  '  - $if: {param: output, equals: forward}',
  "    $then: [{containerPort: '{{ params.port }}', name: fwd}]",
].join('\n');

function load(text: string): { issues: readonly PolicyIssue[]; render: (p: object) => JsonValue } {
  const parsed = parsePolicyText('cond.yaml', text);
  const policy = parsed.documents[0]?.policy;
  return {
    issues: parsed.issues,
    render: (given) => {
      if (policy === undefined) throw new Error('policy did not load');
      const params = new Map<string, string>();
      for (const p of policy.params.values()) {
        if (p.defaultValue !== undefined) params.set(p.name, p.defaultValue);
      }
      for (const [k, v] of Object.entries(given)) params.set(k, String(v));
      const scope = { params, namespace: 'ns', podName: 'pod', labels: {}, annotations: {} };
      const content = renderTemplate(policy.template, scope) as {
        containers: { args: string[]; ports: JsonValue[] }[];
      };
      const container = content.containers[0];
      return { args: container?.args ?? [], ports: container?.ports ?? [] };
    },
  };
}

t.test('a conditional list item splices in $then when the param equals the literal', (t) => {
  const { issues, render } = load(policyText(PARAMS, ARGS));
  t.strictSame(issues, []);
  t.strictSame(render({ output: 'stdout' }), {
    args: ['-i', 'tail', '-o', 'stdout', '-f', '1'],
    ports: [],
  });
  t.end();
});

t.test('a conditional splices in $else otherwise, and nested conditionals work', (t) => {
  const { render } = load(policyText(PARAMS, ARGS));
  t.strictSame(render({}), {
    args: ['-i', 'tail', '-o', 'forward', '-f', '1'],
    ports: [{ containerPort: 24224, name: 'fwd' }],
  });
  t.strictSame(render({ tls: 'on', port: '24240' }), {
    args: ['-i', 'tail', '-o', 'forward', '-p', 'tls=on', '-p', 'tls.verify=on', '-f', '1'],
    ports: [{ containerPort: 24240, name: 'fwd' }],
  });
  t.end();
});

t.test('a conditional without $else adds nothing when it does not hold', (t) => {
  const { render } = load(policyText(PARAMS, ARGS));
  t.strictSame(render({ output: 'stdout', tls: 'on' }), {
    args: ['-i', 'tail', '-o', 'stdout', '-f', '1'],
    ports: [],
  });
  t.end();
});

t.test('a pod value that is conditional syntax is only compared, never read as items', (t) => {
  // The pattern keeps such a value out at admission; the renderer compares text anyway.
  const { render } = load(policyText(PARAMS, ARGS));
  t.strictSame(render({ output: '{$then: [-x]}' }), {
    args: ['-i', 'tail', '-o', 'forward', '-f', '1'],
    ports: [],
  });
  t.end();
});

/** issueOf loads a broken policy and returns its issues as `line:column field: message`. */
function issuesOf(text: string): string[] {
  return parsePolicyText('cond.yaml', text).issues.map(
    (issue) => `${issue.line}:${issue.column} ${issue.fieldPath}: ${issue.message}`,
  );
}

t.test('a conditional on an undeclared param is a load error naming file, line and field', (t) => {
  const text = policyText(
    PARAMS,
    'args:\n  - $if: {param: outptu, equals: stdout}\n    $then: [-x]',
  );
  t.strictSame(issuesOf(text), [
    '14:24 spec.containers[0].args[0].$if.param: $if compares params.outptu, which spec.params does not declare',
  ]);
  t.end();
});

t.test('a conditional whose literal the param refuses is a load error', (t) => {
  const text = policyText(
    PARAMS,
    'args:\n  - $if: {param: output, equals: stdot}\n    $then: [-x]',
  );
  t.strictSame(issuesOf(text), [
    '14:40 spec.containers[0].args[0].$if.equals: $if compares params.output with "stdot", a value the param does not accept, so the condition can never hold',
  ]);
  t.end();
});

t.test('a conditional with a malformed shape is a load error for each fault', (t) => {
  const text = policyText(
    PARAMS,
    [
      'args:',
      '  - $if: {param: output, equals: 1, op: eq}',
      '    $then: -x',
      '    $or: [-y]',
      '  - $if: output',
      '  - $if: {param: output, equals: stdout}',
    ].join('\n'),
  );
  t.strictSame(issuesOf(text), [
    '14:40 spec.containers[0].args[0].$if.equals: $if needs equals: a quoted string the param is compared with',
    '14:47 spec.containers[0].args[0].$if.op: unknown field "op" in $if: only param and equals',
    '15:18 spec.containers[0].args[0].$then: $then must be a list of items to add in place of the conditional',
    '16:16 spec.containers[0].args[0].$or: unknown field "$or" in a conditional: only $if, $then and $else',
    '17:11 spec.containers[0].args[1]: a conditional needs $then or $else: the items to add',
    '17:16 spec.containers[0].args[1].$if: $if must be a map {param: NAME, equals: "value"}',
    '18:11 spec.containers[0].args[2]: a conditional needs $then or $else: the items to add',
  ]);
  t.end();
});

t.test('a conditional key outside a list item is a load error', (t) => {
  const text = policyText(
    PARAMS,
    'securityContext:\n  $if: {param: output, equals: stdout}\n  $then: [x]',
  );
  t.strictSame(issuesOf(text), [
    '14:14 spec.containers[0].securityContext.$if: $if belongs to a conditional, which may only stand as a list item',
  ]);
  t.end();
});

t.test("a conditional in the policy's own list of volumes is refused by name", (t) => {
  const volumes = [
    '  volumes:',
    '    - $if: {param: output, equals: stdout}',
    '      $then: [{name: v, emptyDir: {}}]',
  ].join('\n');
  t.strictSame(issuesOf(policyText(PARAMS, 'args: [x]', volumes)), [
    "15:7 spec.volumes[0].$if: a conditional ($if) may only stand in a list inside a container (args, env, volumeMounts, ...), not directly in the policy's containers, volumes or appContainer",
  ]);
  t.end();
});

t.test('pod.annotations in a command line is refused inside a conditional branch too', (t) => {
  const args = [
    'args:',
    '  - $if: {param: output, equals: stdout}',
    '    $then: [-x]',
    '    $else: ["{{ pod.annotations[\'a\'] }}"]',
  ].join('\n');
  t.strictSame(issuesOf(policyText(PARAMS, args)), [
    '16:19 spec.containers[0].args[0].$else[0]: pod.annotations may not go into a command line; pass it through env',
  ]);
  t.end();
});

t.test("an injected container's mount path must be fixed inside a conditional branch too", (t) => {
  const mounts = [
    'volumeMounts:',
    '  - $if: {param: output, equals: stdout}',
    "    $then: [{name: v, mountPath: '/x/{{ params.output }}'}]",
  ].join('\n');
  const found = issuesOf(policyText(PARAMS, mounts));
  t.strictSame(
    found.map((line) => line.replace(/^\d+:\d+ /, '')),
    [
      "spec.containers[0].volumeMounts[0].$then[0].mountPath: an injected container's mount path must be fixed, not a template: a pod's value could land a volume on the container's own files",
    ],
  );
  t.end();
});

import t from 'tap';
import { formatPolicyIssue } from '../../src/errors.ts';
import { buildPolicyDirectory } from '../../src/policy/load.ts';

// Rules that keep a pod author's values data: each is a load error, so `tandem lint` and
// start-up catch it, never admission.
function issuesOf(spec: string): string[] {
  const text = `apiVersion: tandem.dev/v1alpha1\nkind: SidecarPolicy\nmetadata: {name: p}\nspec:\n  pattern: sidecar\n${spec}`;
  return buildPolicyDirectory([{ file: 'p.yaml', text }]).issues.map(formatPolicyIssue);
}

t.test('a string param without a pattern is refused, at its line', (t) => {
  const issues = issuesOf(
    "  params:\n    cmd: {default: x}\n  containers:\n    - {name: c, image: i, env: [{name: C, value: '{{ params.cmd }}'}]}\n",
  );
  t.strictSame(issues, [
    "p.yaml:7:10: spec.params.cmd: a string param needs a pattern: its value comes from the pod's author",
  ]);
  t.end();
});

t.test(
  'an optional integer param without a default is refused (it would render as nothing)',
  (t) => {
    const issues = issuesOf(
      "  params:\n    port: {type: integer}\n  containers:\n    - {name: c, image: i, ports: [{containerPort: '{{ params.port }}'}]}\n",
    );
    t.strictSame(issues, [
      'p.yaml:7:11: spec.params.port: an optional integer param needs a default',
    ]);
    t.end();
  },
);

t.test('pod.annotations in a command line is refused; in env it is fine', (t) => {
  const issues = issuesOf(
    '  containers:\n    - name: c\n      image: i\n      command: [sh, -c, "echo {{ pod.annotations[\'x\'] }}"]\n      env: [{name: X, value: "{{ pod.annotations[\'x\'] }}"}]\n',
  );
  t.strictSame(issues, [
    'p.yaml:9:25: spec.containers[0].command[2]: pod.annotations may not go into a command line; pass it through env',
  ]);
  t.end();
});

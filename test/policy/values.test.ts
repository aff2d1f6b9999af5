/**
 * PolicyValues documents load beside the policies and are checked against them: a value
 * that could not be used never loads, and each problem names file, line and field.
 */
import t from 'tap';
import { formatPolicyIssue } from '../../src/errors.ts';
import { buildPolicyDirectory } from '../../src/policy/load.ts';

const POLICY = `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: shipper}
spec:
  pattern: sidecar
  params:
    host: {required: true, pattern: '[a-z.]+'}
    port: {default: '24224', type: integer, pattern: '[0-9]{1,5}'}
  containers:
    - name: shipper
      image: registry.example/shipper:1
      args: ['{{ params.host }}:{{ params.port }}']
`;

function issuesOf(values: string, more: { file: string; text: string }[] = []): string[] {
  const result = buildPolicyDirectory([
    { file: 'shipper.yaml', text: POLICY },
    { file: 'values.yaml', text: values },
    ...more,
  ]);
  return result.issues.map(formatPolicyIssue);
}

const HEAD = 'apiVersion: tandem.dev/v1alpha1\nkind: PolicyValues\nmetadata: {name: cluster}\n';

t.test('a values document loads into the set, integers written as Helm writes them', (t) => {
  const result = buildPolicyDirectory([
    { file: 'shipper.yaml', text: POLICY },
    {
      file: 'values.yaml',
      text: `${HEAD}spec:\n  shipper:\n    host: logs.example\n    port: 24225\n`,
    },
  ]);
  t.strictSame(result.issues, []);
  t.strictSame(
    [...(result.set.clusterValues.get('shipper') ?? new Map())],
    [
      ['host', { value: 'logs.example', source: 'values.yaml:6' }],
      ['port', { value: '24225', source: 'values.yaml:7' }],
    ],
  );
  t.end();
});

t.test('a file holding only a values document is not a file without policies', (t) => {
  t.strictSame(issuesOf(`${HEAD}spec:\n  shipper: {host: logs.example}\n`), []);
  t.end();
});

t.test('a value for a policy that is not loaded, or a param it lacks, is an issue', (t) => {
  t.strictSame(issuesOf(`${HEAD}spec:\n  shiper: {host: a}\n  shipper: {hots: a}\n`), [
    'values.yaml:5:18: spec.shiper.host: sets a value for policy "shiper", which is not loaded',
    'values.yaml:6:19: spec.shipper.hots: policy "shipper" has no param "hots"',
  ]);
  t.end();
});

t.test('a value that does not fit its param is an issue, as it would be in a pod', (t) => {
  t.strictSame(issuesOf(`${HEAD}spec:\n  shipper:\n    host: Logs\n    port: '80a'\n`), [
    'values.yaml:6:11: spec.shipper.host: the value of param "host" has value "Logs", which policy "shipper" does not accept. Wanted: a value matching "[a-z.]+"',
    'values.yaml:7:11: spec.shipper.port: the value of param "port" has value "80a", which policy "shipper" does not accept. Wanted: a value matching "[0-9]{1,5}"',
  ]);
  t.end();
});

t.test('a value that is neither a string nor an integer is an issue', (t) => {
  t.strictSame(issuesOf(`${HEAD}spec:\n  shipper:\n    host: [a]\n    port: 1.5\n`), [
    'values.yaml:6:11: spec.shipper.host: a value must be a string or an integer',
    'values.yaml:7:11: spec.shipper.port: a value must be a string or an integer',
  ]);
  t.end();
});

t.test('a param set twice, in two files, is an issue pointing at the first', (t) => {
  const again = { file: 'values-2.yaml', text: `${HEAD}spec:\n  shipper: {host: other}\n` };
  t.strictSame(issuesOf(`${HEAD}spec:\n  shipper: {host: logs.example}\n`, [again]), [
    'values-2.yaml:5:19: spec.shipper.host: param "host" of policy "shipper" is already set at values.yaml:5',
  ]);
  t.end();
});

t.test('a values document with a wrong apiVersion, an unknown field or a bad spec', (t) => {
  t.strictSame(issuesOf('apiVersion: v1\nkind: PolicyValues\nvalues: {}\nspec: [a]\n'), [
    'values.yaml:1:13: apiVersion: expected apiVersion "tandem.dev/v1alpha1"',
    'values.yaml:3:9: values: unknown field "values" of a PolicyValues',
    'values.yaml:4:7: spec: spec must map policy names to their params',
  ]);
  t.strictSame(issuesOf(`${HEAD}spec:\n  shipper: logs.example\n`), [
    'values.yaml:5:12: spec.shipper: the values of policy "shipper" must be a map of param to value',
  ]);
  t.end();
});

t.test('setBy accepts cluster, namespace or pod, nothing else', (t) => {
  const policy = POLICY.replace('host: {required: true,', 'host: {required: true, setBy: admin,');
  const result = buildPolicyDirectory([{ file: 'shipper.yaml', text: policy }]);
  t.match(result.issues.map(formatPolicyIssue).join('\n'), /spec\.params\.host\.setBy/);
  t.end();
});

/**
 * requiredWhen: a param required only while another param has one value. It exists for
 * log-forwarder, whose aggregator host is needed to forward and not to print on stdout, so
 * a pod (or an automatic injection) that chooses stdout need not name an aggregator.
 */
import t, { type Test } from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { formatPolicyIssue } from '../../src/errors.ts';
import { injectPod } from '../../src/inject/engine.ts';
import type { InjectResult } from '../../src/inject/types.ts';
import { buildPolicySet, type PolicySet } from '../../src/policy/compile.ts';
import { buildPolicyDirectory } from '../../src/policy/load.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { appPod } from '../fixtures/pods.ts';
import { context } from '../fixtures/policies.ts';
import { loadBuiltinPolicy } from '../fixtures/real/policies.ts';

function policyText(params: string): string {
  return `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: shipper}
spec:
  pattern: sidecar
  params:
${params}
  containers:
    - name: shipper
      image: registry.example/shipper:1
      env:
        - {name: HOST, value: '{{ params.host }}'}
        - {name: OUTPUT, value: '{{ params.output }}'}
      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}}
`;
}

const OUTPUT =
  "    output: {default: forward, pattern: 'forward|stdout', description: Where., example: stdout}";

function issuesOf(params: string): string[] {
  const result = buildPolicyDirectory([{ file: 'p.yaml', text: policyText(params) }]);
  return result.issues.map(formatPolicyIssue);
}

function load(params: string): PolicySet {
  const result = buildPolicyDirectory([{ file: 'p.yaml', text: policyText(params) }]);
  if (result.issues.length > 0) throw new Error(JSON.stringify(result.issues));
  return result.set;
}

function denial(result: InjectResult): string {
  return result.outcome === 'denied' ? result.reason : `not denied: ${result.outcome}`;
}

function injectedEnv(t: Test, p: V1Pod, result: InjectResult): Record<string, string> {
  if (result.outcome !== 'patched') {
    t.fail(`expected a patch, got ${JSON.stringify(result)}`);
    return {};
  }
  const out = applyPatch(p, result.patch);
  t.strictSame(checkPod(out), [], 'the injected pod passes API server validation');
  const shipper = out.spec?.initContainers?.find((c) => c.name === 'shipper');
  return Object.fromEntries((shipper?.env ?? []).map((e) => [e.name, e.value ?? '']));
}

const SHIPPER = load(
  `    host: {requiredWhen: {param: output, equals: forward}, pattern: '[a-z.]+', description: The aggregator., example: logs.example}\n${OUTPUT}`,
);

t.test('requiredWhen: the param is required while the other param has the value', (t) => {
  const p = appPod({ 'tandem.dev/inject': 'shipper' });
  t.strictSame(
    denial(injectPod(p, SHIPPER, context())),
    'policy "shipper" requires annotation shipper.tandem.dev/host, which the pod does not set (needed while param "output" is "forward")',
  );
  const named = appPod({ 'tandem.dev/inject': 'shipper', 'shipper.tandem.dev/host': 'logs.a' });
  t.strictSame(injectedEnv(t, named, injectPod(named, SHIPPER, context())), {
    HOST: 'logs.a',
    OUTPUT: 'forward',
  });
  t.end();
});

t.test('requiredWhen: the param is optional while the other param has another value', (t) => {
  const p = appPod({ 'tandem.dev/inject': 'shipper', 'shipper.tandem.dev/output': 'stdout' });
  t.strictSame(injectedEnv(t, p, injectPod(p, SHIPPER, context())), {
    HOST: '',
    OUTPUT: 'stdout',
  });
  t.end();
});

t.test('requiredWhen: the param is checked against its pattern whenever it is set', (t) => {
  const p = appPod({
    'tandem.dev/inject': 'shipper',
    'shipper.tandem.dev/output': 'stdout',
    'shipper.tandem.dev/host': 'BAD;host',
  });
  t.match(denial(injectPod(p, SHIPPER, context())), /shipper\.tandem\.dev\/host/);
  t.end();
});

t.test('requiredWhen: load errors name the field', (t) => {
  const param = (rest: string) =>
    `    host: {${rest}, pattern: '[a-z.]+', description: The aggregator., example: logs.example}\n${OUTPUT}`;
  t.strictSame(issuesOf(param('requiredWhen: {param: nope, equals: forward}')), [
    'p.yaml:7:34: spec.params.host.requiredWhen.param: requiredWhen names params.nope, which is not another declared param',
  ]);
  t.strictSame(issuesOf(param('requiredWhen: {param: host, equals: x}')), [
    'p.yaml:7:34: spec.params.host.requiredWhen.param: requiredWhen names params.host, which is not another declared param',
  ]);
  t.strictSame(issuesOf(param('requiredWhen: {param: output, equals: fwd}')), [
    'p.yaml:7:50: spec.params.host.requiredWhen.equals: requiredWhen compares params.output with "fwd", a value the param does not accept, so the param would never be required',
  ]);
  t.strictSame(issuesOf(param('requiredWhen: {param: output, equals: forward}, default: a')), [
    'p.yaml:7:26: spec.params.host.requiredWhen: a param with requiredWhen cannot have a default: it would never be missing',
  ]);
  t.strictSame(issuesOf(param('requiredWhen: {param: output, equals: forward}, required: true')), [
    'p.yaml:7:26: spec.params.host.requiredWhen: a param is either required or requiredWhen, not both',
  ]);
  t.end();
});

// The regression for log-forwarder's stdout mode: host used to be `required: true`, so a
// pod that printed to stdout was denied for lack of an aggregator it would never use.
t.test('log-forwarder: output=stdout needs no aggregator host; forward does', (t) => {
  const set = buildPolicySet([loadBuiltinPolicy('log-forwarder.yaml')]);
  const stdout = appPod({
    'tandem.dev/inject': 'log-forwarder',
    'log-forwarder.tandem.dev/output': 'stdout',
  });
  const result = injectPod(stdout, set, context());
  t.equal(result.outcome, 'patched', denial(result));
  if (result.outcome === 'patched') {
    const out = applyPatch(stdout, result.patch);
    t.strictSame(checkPod(out), [], 'the injected pod passes API server validation');
    const args = out.spec?.initContainers?.find((c) => c.name === 'tandem-fluent-bit')?.args;
    t.ok(args?.includes('stdout'), 'the stdout output is rendered');
    t.notOk(
      args?.some((arg) => arg.startsWith('host=')),
      'no host= property is rendered for stdout',
    );
  }
  const forward = appPod({ 'tandem.dev/inject': 'log-forwarder' });
  t.strictSame(
    denial(injectPod(forward, set, context())),
    'policy "log-forwarder" requires annotation log-forwarder.tandem.dev/host, which the pod does not set (needed while param "output" is "forward")',
  );
  t.end();
});

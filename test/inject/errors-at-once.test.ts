import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { explainPod, injectPod } from '../../src/inject/engine.ts';
import { context, policySet } from '../fixtures/policies.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';

const policies = policySet(TEST_POLICIES);

function pod(annotations: Record<string, string>): V1Pod {
  return {
    metadata: { name: 'web', annotations },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
  };
}

t.test('two wrong params of one policy: the denial names both annotations', (t) => {
  const result = injectPod(
    pod({
      'tandem.dev/inject': 'shipper',
      'shipper.tandem.dev/dest': 'not-a-destination',
      'shipper.tandem.dev/level': 'loud',
    }),
    policies,
    context(),
  );
  t.strictSame(result, {
    outcome: 'denied',
    code: 'ParamInvalid',
    policy: 'shipper',
    reason:
      '2 problems: (1) annotation shipper.tandem.dev/dest has value "not-a-destination", which policy "shipper" does not accept. Wanted: a value matching "[a-z0-9.-]+:[0-9]{1,5}"; (2) annotation shipper.tandem.dev/level has value "loud", which policy "shipper" does not accept. Wanted: a value matching "debug|info|warn"',
    warnings: [],
  });
  t.end();
});

t.test('wrong and missing params of two policies: one denial lists every one', (t) => {
  const result = injectPod(
    pod({ 'tandem.dev/inject': 'shipper, proxy', 'proxy.tandem.dev/port': 'http' }),
    policies,
    context(),
  );
  t.match(result, { outcome: 'denied', code: 'ParamMissing' });
  t.notOk('policy' in result, 'two policies: the denial names neither');
  const reason = result.outcome === 'denied' ? result.reason : '';
  t.match(
    reason,
    /^2 problems: \(1\) policy "shipper" requires annotation shipper\.tandem\.dev\/dest, which the pod does not set; \(2\) annotation proxy\.tandem\.dev\/port has value "http"/,
  );
  t.end();
});

t.test('one wrong param: the message is as before, with no count', (t) => {
  const result = injectPod(
    pod({
      'tandem.dev/inject': 'shipper',
      'shipper.tandem.dev/dest': 'x:1',
      'shipper.tandem.dev/level': 'loud',
    }),
    policies,
    context(),
  );
  t.match(result, {
    outcome: 'denied',
    reason: /^annotation shipper\.tandem\.dev\/level has value "loud"/,
  });
  t.end();
});

t.test('several unknown policies requested: the denial names each, and explain shows each', (t) => {
  const asked = pod({
    'tandem.dev/inject': 'nope, shipper, nada',
    'shipper.tandem.dev/dest': 'x:1',
  });
  t.strictSame(injectPod(asked, policies, context()), {
    outcome: 'denied',
    code: 'UnknownPolicy',
    reason:
      '2 problems: (1) tandem.dev/inject requests policy "nope", which does not exist; (2) tandem.dev/inject requests policy "nada", which does not exist',
    warnings: [],
  });
  const { decisions } = explainPod(asked, policies, context());
  t.strictSame(
    decisions.filter((d) => d.decision === 'deny'),
    [
      { policy: 'nope', decision: 'deny', reason: 'no such policy' },
      { policy: 'nada', decision: 'deny', reason: 'no such policy' },
    ],
  );
  t.end();
});

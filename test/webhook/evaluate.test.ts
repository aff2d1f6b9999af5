import t from 'tap';
import { parseWebhooks } from '../../src/webhook/config-file.ts';
import { evaluateCondition, whoSends, type PodCreate } from '../../src/webhook/evaluate.ts';

// The API server's rules for sending a pod to a webhook, as whoSends applies them to a
// configuration read from a file: label selectors with Kubernetes semantics, then the
// CEL matchConditions, all of which must hold.

function create(
  labels: Record<string, string>,
  namespaceLabels: Record<string, string>,
): PodCreate {
  return {
    pod: { metadata: { name: 'p', labels }, spec: {} },
    labels,
    namespace: 'ns',
    namespaceLabels: { 'kubernetes.io/metadata.name': 'ns', ...namespaceLabels },
  };
}

const CONFIG = `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfigurationList
items:
  - apiVersion: admissionregistration.k8s.io/v1
    kind: MutatingWebhookConfiguration
    metadata: {name: tandem}
    webhooks:
      - name: a.example.dev
        namespaceSelector:
          matchLabels: {team: a}
          matchExpressions: [{key: env, operator: NotIn, values: [prod]}]
        objectSelector:
          matchExpressions: [{key: skip, operator: DoesNotExist}]
        matchConditions:
          - {name: web, expression: "has(object.metadata.labels) && object.metadata.labels['app'] == 'web'"}
`;

t.test(
  'a List of configurations is read, and each selector is checked as the API server does',
  (t) => {
    const webhooks = parseWebhooks(CONFIG.replace('MutatingWebhookConfigurationList', 'List'), 'f');
    t.strictSame(whoSends(webhooks, create({ app: 'web' }, { team: 'a' })), {
      sent: true,
      webhook: 'a.example.dev',
    });
    // NotIn holds for a namespace without the key, and fails for one with a listed value.
    t.strictSame(whoSends(webhooks, create({ app: 'web' }, { team: 'a', env: 'prod' })), {
      sent: false,
      reasons: ['webhook a.example.dev: its namespaceSelector does not match: env notin (prod)'],
    });
    t.strictSame(whoSends(webhooks, create({ app: 'web' }, {})), {
      sent: false,
      reasons: ['webhook a.example.dev: its namespaceSelector does not match: team=a'],
    });
    t.strictSame(whoSends(webhooks, create({ app: 'web', skip: '' }, { team: 'a' })), {
      sent: false,
      reasons: ["webhook a.example.dev: its objectSelector does not match the pod's labels: !skip"],
    });
    t.end();
  },
);

t.test('a condition that errs is reported as refusing the pod, not as false', (t) => {
  const webhooks = parseWebhooks(CONFIG.replace('MutatingWebhookConfigurationList', 'List'), 'f');
  const sending = whoSends(webhooks, create({ other: 'x' }, { team: 'a' }));
  t.match(sending, {
    sent: false,
    reasons: [/matchCondition "web" fails \(.+\), and the API server then refuses the pod/],
  });
  t.equal(evaluateCondition('1 + 1', create({}, {})), 'it gives bigint, not a bool');
  t.end();
});

t.test('a file without a webhook configuration, or with an unknown operator, is refused', (t) => {
  t.throws(
    () => parseWebhooks('kind: ConfigMap\n', 'cm.yaml'),
    /cm\.yaml holds no MutatingWebhookConfiguration/,
  );
  const bad = CONFIG.replace('MutatingWebhookConfigurationList', 'List').replace('NotIn', 'Nope');
  t.throws(
    () => parseWebhooks(bad, 'bad.yaml'),
    /bad\.yaml: a selector requirement has operator "Nope"/,
  );
  t.end();
});

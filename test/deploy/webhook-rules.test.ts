import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { REPO_ROOT, renderDeploy } from '../../scripts/render-deploy.ts';
import { CHART_DIR, renderChart } from '../../scripts/render-chart.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { DEFAULT_EXCLUDED_NAMESPACES, deriveWebhooks } from '../../src/webhook/derive.ts';
import { parseWebhooks } from '../../src/webhook/config-file.ts';
import { whoSends, type WebhookView } from '../../src/webhook/evaluate.ts';
import { renderChartRules, renderDeployWebhook } from '../../src/webhook/manifest.ts';
import { findUnreachable } from '../../src/webhook/reach.ts';
import { MESH_POLICIES } from '../fixtures/mesh-policies.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

// Issue 12 item 2: deploy/webhook.yaml and the chart's webhook rules are generated from
// the bundled policies by `tandem webhook` (`npm run webhook`); these tests fail when
// either drifts from what the policies need, and check that every bundled policy is
// reachable through what kustomize and helm render.

const skip =
  process.platform === 'linux' && process.arch === 'x64'
    ? false
    : `kubectl and helm from the Lambda layer run on linux/x64 only, not ${process.platform}/${process.arch}`;

const OPTIONS = { excludeNamespaces: DEFAULT_EXCLUDED_NAMESPACES };

t.test('deploy/webhook.yaml is what tandem webhook derives from policies/', async (t) => {
  const policies = await loadPolicies(join(REPO_ROOT, 'policies'));
  const expected = renderDeployWebhook(deriveWebhooks(policies, OPTIONS), 'tandem-system');
  t.equal(await readFile(join(REPO_ROOT, 'deploy', 'webhook.yaml'), 'utf8'), expected);
  const cli = runTandem(['webhook', '--policies', 'policies']);
  t.strictSame([cli.code, cli.stdout], [0, expected], 'the command prints the same');
});

t.test("the chart's webhook rules are what tandem webhook derives from its policies", async (t) => {
  const policies = await loadPolicies(join(CHART_DIR, 'policies'));
  const expected = renderChartRules(deriveWebhooks(policies, OPTIONS), OPTIONS);
  t.equal(await readFile(join(CHART_DIR, 'files', 'webhook-rules.yaml'), 'utf8'), expected);
  const cli = runTandem(['webhook', '--policies', 'charts/tandem/policies', '--chart-rules']);
  t.strictSame([cli.code, cli.stdout], [0, expected], 'the command prints the same');
});

function webhookOf(yaml: string): WebhookView[] {
  return parseWebhooks(yaml, 'the rendered manifests');
}

t.test(
  'every bundled policy is reachable through what kustomize and helm render',
  { skip },
  async (t) => {
    const policies = await loadPolicies(join(REPO_ROOT, 'policies'));
    for (const [source, yaml] of [
      ['kustomize', await renderDeploy()],
      ['helm', await renderChart()],
    ] as const) {
      const webhooks = webhookOf(yaml);
      for (const policy of policies.byName.values()) {
        t.strictSame(findUnreachable(policy, webhooks, source), [], `${policy.name} via ${source}`);
      }
    }
  },
);

t.test(
  "an admin's automatic policy renders only with webhook rules that reach it",
  { skip },
  async (t) => {
    const extra = { 'mesh.yaml': MESH_POLICIES };
    await t.rejects(
      renderChart({ policies: { extra } }),
      /"mesh.yaml" holds an automatic policy .*tandem webhook --chart-rules/,
    );
    const dir = await mkdtemp(join(tmpdir(), 'tandem-rules-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await cp(join(CHART_DIR, 'policies'), dir, { recursive: true });
    await writeFile(join(dir, 'mesh.yaml'), MESH_POLICIES);
    const rules = runTandem(['webhook', '--policies', dir, '--chart-rules']);
    t.equal(rules.code, 0, rules.stderr);
    const rendered = await renderChart({ policies: { extra }, webhook: { rules: rules.stdout } });
    const webhooks = webhookOf(rendered);
    t.equal(webhooks.length, 3, 'the general webhook and one per namespace condition');
    for (const policy of (await loadPolicies(dir)).byName.values()) {
      t.strictSame(findUnreachable(policy, webhooks, 'helm'), [], policy.name);
    }
    const create = {
      pod: { metadata: { generateName: 'web-', labels: { app: 'web' } }, spec: {} },
      labels: { app: 'web' },
      namespace: 'shop',
      namespaceLabels: { 'kubernetes.io/metadata.name': 'shop' },
    };
    t.match(whoSends(webhooks, create), { sent: true, webhook: 'inject.tandem.dev' });
  },
);

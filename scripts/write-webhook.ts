/**
 * Writes deploy/webhook.yaml and charts/tandem/files/webhook-rules.yaml, the webhook
 * configuration the bundled policies need, with `tandem webhook`'s own functions, so the
 * files and the command cannot drift (test/deploy/webhook-rules.test.ts compares them).
 *
 * Run with `npm run webhook` after changing a policy's selector, namespaceSelector or
 * namespaceInjection.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPolicies } from '../src/policy/load.ts';
import { DEFAULT_EXCLUDED_NAMESPACES, deriveWebhooks } from '../src/webhook/derive.ts';
import { renderChartRules, renderDeployWebhook } from '../src/webhook/manifest.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OPTIONS = { excludeNamespaces: DEFAULT_EXCLUDED_NAMESPACES };

if (import.meta.main) {
  const deploy = join(ROOT, 'deploy', 'webhook.yaml');
  const policies = await loadPolicies(join(ROOT, 'policies'));
  await writeFile(deploy, renderDeployWebhook(deriveWebhooks(policies, OPTIONS), 'tandem-system'));
  const chart = join(ROOT, 'charts', 'tandem', 'files', 'webhook-rules.yaml');
  const chartPolicies = await loadPolicies(join(ROOT, 'charts', 'tandem', 'policies'));
  await mkdir(dirname(chart), { recursive: true });
  await writeFile(chart, renderChartRules(deriveWebhooks(chartPolicies, OPTIONS), OPTIONS));
  process.stdout.write(`wrote ${deploy}\nwrote ${chart}\n`);
}

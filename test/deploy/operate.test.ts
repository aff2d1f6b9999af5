import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { stringify } from 'yaml';
import { renderChart, CHART_DIR, type Values } from '../../scripts/render-chart.ts';
import { send, sendReview, startHarness } from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';
import { parseObjects, type RenderedObject } from './manifests.ts';

// Operating tandem: the chart's alert rules and Grafana dashboard, loaded and run by the
// real promtool (Prometheus's own rule checker and rule unit tester, from Debian's
// `prometheus` package), and held to the metrics a running tandem exports.

t.setTimeout(240_000);

const helmSkip =
  process.platform === 'linux' && process.arch === 'x64'
    ? false
    : `helm from the Lambda layer runs on linux/x64 only, not ${process.platform}/${process.arch}`;
const promtoolFound = spawnSync('promtool', ['--version']).status === 0;
const promtoolSkip =
  helmSkip ||
  (promtoolFound ? false : 'promtool is not installed (Debian: apt-get install prometheus)');

const NAMESPACE = 'tandem-system';
const OPERATE: Values = {
  metrics: { prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } },
};

interface AlertRule {
  readonly alert: string;
  readonly expr: string;
}
interface RuleGroups {
  readonly groups: readonly { readonly name: string; readonly rules: readonly AlertRule[] }[];
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly w: number };
  readonly datasource?: { readonly uid: string };
  readonly targets?: readonly { readonly expr: string }[];
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
}

async function rendered(): Promise<RenderedObject[]> {
  return parseObjects(await renderChart(OPERATE));
}

function ruleGroups(objects: RenderedObject[]): RuleGroups {
  const rule = objects.find((o) => o.kind === 'PrometheusRule') as { spec: RuleGroups } | undefined;
  if (rule === undefined) throw new Error('no PrometheusRule rendered');
  return rule.spec;
}

function dashboardOf(objects: RenderedObject[]): Dashboard {
  const map = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata?.name === 'tandem-dashboard',
  ) as { data: Record<string, string> } | undefined;
  if (map === undefined) throw new Error('no dashboard ConfigMap rendered');
  return JSON.parse(map.data['tandem.json'] ?? '') as Dashboard;
}

/** queries are the dashboard's PromQL, with Grafana's variables given plain values. */
function queries(dashboard: Dashboard): { panel: string; expr: string }[] {
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      panel: panel.title,
      expr: target.expr
        .replaceAll('$__rate_interval', '5m')
        .replaceAll('$__range', '1h')
        .replaceAll('$namespace', '.*')
        .replaceAll('$pod', '.*'),
    })),
  );
}

/** promtool runs promtool in `dir` and returns its exit status and output. */
function promtool(dir: string, args: readonly string[]): { status: number | null; out: string } {
  const run = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-operate-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test(
  'the alert rules load in Prometheus (promtool check rules)',
  { skip: promtoolSkip },
  async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'rules.yaml'), stringify(ruleGroups(await rendered())));
    const check = promtool(dir, ['check', 'rules', 'rules.yaml']);
    t.equal(check.status, 0, check.out);
  },
);

t.test("the dashboard's queries are valid PromQL", { skip: promtoolSkip }, async (t) => {
  const dir = await tempDir(t);
  const all = queries(dashboardOf(await rendered()));
  t.ok(all.length >= 12, 'a query per panel at least');
  // promtool has no query checker of its own: each query goes in as a recording rule.
  const rules = all.map(({ expr }, i) => ({ record: `tandem:dashboard_query_${i}`, expr }));
  await writeFile(join(dir, 'queries.yaml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
  const check = promtool(dir, ['check', 'rules', 'queries.yaml']);
  t.equal(check.status, 0, check.out);
});

function expiresSoon(pod: string, left: string): Record<string, string> {
  return {
    summary: "tandem's serving certificate expires soon",
    description: `${pod} serves a certificate that expires in ${left}; check the Certificate tandem-serving and the Secret tandem-serving-tls.`,
  };
}

// Each alert fires on the series it is about, with the labels its runbook needs, and a
// healthy install raises none: promtool evaluates the rendered rules over synthetic series.
const ALERT_TESTS = [
  {
    name: 'nothing scraped: TandemDown after 5 minutes',
    interval: '1m',
    input_series: [{ series: 'up{job="other"}', values: '1x20' }],
    alert_rule_test: [
      { eval_time: '4m', alertname: 'TandemDown', exp_alerts: [] },
      {
        eval_time: '10m',
        alertname: 'TandemDown',
        exp_alerts: [
          {
            exp_labels: { severity: 'critical', namespace: NAMESPACE },
            exp_annotations: {
              summary: 'no tandem replica is up',
              description: `Prometheus scrapes no tandem in ${NAMESPACE}; pods sent to the webhook are refused (failurePolicy Fail).`,
            },
          },
        ],
      },
    ],
  },
  {
    name: 'a healthy install raises nothing',
    interval: '1m',
    input_series: [
      {
        series: `tandem_build_info{namespace="${NAMESPACE}",pod="a",version="0.1.0"}`,
        values: '1x60',
      },
      {
        series: `tandem_build_info{namespace="${NAMESPACE}",pod="b",version="0.1.0"}`,
        values: '1x60',
      },
      { series: `tandem_policies_loaded{namespace="${NAMESPACE}",pod="a"}`, values: '3x60' },
      { series: `tandem_policies_loaded{namespace="${NAMESPACE}",pod="b"}`, values: '3x60' },
      // Expires 60 days after the evaluation starts.
      { series: 'tandem_certificate_not_after_seconds{pod="a"}', values: '5184000x60' },
      { series: 'tandem_admissions_total{result="patched",dry_run="false"}', values: '0+600x60' },
      {
        series:
          'tandem_denials_total{policy="redis-ambassador",reason="ParamInvalid",dry_run="false"}',
        values: '0+1x60',
      },
    ],
    alert_rule_test: [
      'TandemDown',
      'TandemDenialsHigh',
      'TandemCertificateExpiresSoon',
      'TandemCertificateExpiring',
      'TandemVersionSkew',
      'TandemPolicySetsDiffer',
      'TandemAdmissionErrors',
    ].map((alertname) => ({ eval_time: '59m', alertname, exp_alerts: [] })),
  },
  {
    name: 'one policy denying steadily: TandemDenialsHigh names the policy and reason',
    interval: '1m',
    input_series: [
      {
        series:
          'tandem_denials_total{policy="log-forwarder",reason="ParamMissing",dry_run="false",pod="a"}',
        values: '0+60x60',
      },
      // Dry runs deny nobody.
      {
        series:
          'tandem_denials_total{policy="metrics-adapter",reason="ParamInvalid",dry_run="true",pod="a"}',
        values: '0+600x60',
      },
    ],
    alert_rule_test: [
      {
        eval_time: '45m',
        alertname: 'TandemDenialsHigh',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', policy: 'log-forwarder', reason: 'ParamMissing' },
            exp_annotations: {
              summary: 'tandem keeps denying pods for policy log-forwarder',
              description:
                '1 denials/s with reason ParamMissing (README, "Error and denial codes"); the denial log lines carry the message.',
            },
          },
        ],
      },
    ],
  },
  {
    name: 'a certificate 10 days from expiry warns; one under a day pages',
    interval: '1m',
    input_series: [
      { series: 'tandem_certificate_not_after_seconds{pod="a"}', values: '864000x60' },
      { series: 'tandem_certificate_not_after_seconds{pod="b"}', values: '43200x60' },
      { series: 'tandem_certificate_not_after_seconds{pod="c"}', values: '5184000x60' },
    ],
    alert_rule_test: [
      {
        eval_time: '30m',
        alertname: 'TandemCertificateExpiresSoon',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', pod: 'a' },
            exp_annotations: expiresSoon('a', '9d 23h 30m 0s'),
          },
          {
            exp_labels: { severity: 'warning', pod: 'b' },
            exp_annotations: expiresSoon('b', '11h 30m 0s'),
          },
        ],
      },
      {
        eval_time: '30m',
        alertname: 'TandemCertificateExpiring',
        exp_alerts: [
          {
            exp_labels: { severity: 'critical', pod: 'b' },
            exp_annotations: {
              summary: "tandem's serving certificate expires within a day",
              description: 'b serves a certificate that expires in 11h 30m 0s.',
            },
          },
        ],
      },
    ],
  },
  {
    name: 'two versions for over 30 minutes: TandemVersionSkew',
    interval: '1m',
    input_series: [
      {
        series: `tandem_build_info{namespace="${NAMESPACE}",pod="a",version="0.1.0"}`,
        values: '1x60',
      },
      {
        series: `tandem_build_info{namespace="${NAMESPACE}",pod="b",version="0.2.0"}`,
        values: '1x60',
      },
    ],
    alert_rule_test: [
      { eval_time: '20m', alertname: 'TandemVersionSkew', exp_alerts: [] },
      {
        eval_time: '45m',
        alertname: 'TandemVersionSkew',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning' },
            exp_annotations: {
              summary: 'more than one tandem version has been serving for 30 minutes',
              description: `A rollout of tandem is stuck; \`kubectl -n ${NAMESPACE} rollout status deploy/tandem\` says why.`,
            },
          },
        ],
      },
    ],
  },
  {
    name: 'replicas serving different policy counts: TandemPolicySetsDiffer',
    interval: '1m',
    input_series: [
      { series: `tandem_policies_loaded{namespace="${NAMESPACE}",pod="a"}`, values: '3x60' },
      { series: `tandem_policies_loaded{namespace="${NAMESPACE}",pod="b"}`, values: '4x60' },
    ],
    alert_rule_test: [
      {
        eval_time: '30m',
        alertname: 'TandemPolicySetsDiffer',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning' },
            exp_annotations: {
              summary: 'tandem replicas serve different numbers of policies',
              description:
                'A replica did not reload the policy ConfigMap, or refused the change; see TandemPolicyReloadFailing and the logs of each replica.',
            },
          },
        ],
      },
    ],
  },
];

t.test(
  'each alert fires on what it is about, and a healthy install raises none (promtool test rules)',
  { skip: promtoolSkip },
  async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'rules.yaml'), stringify(ruleGroups(await rendered())));
    await writeFile(
      join(dir, 'tests.yaml'),
      stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests: ALERT_TESTS }),
    );
    const run = promtool(dir, ['test', 'rules', 'tests.yaml']);
    t.equal(run.status, 0, run.out);
  },
);

t.test('the dashboard is one Grafana can import as it is', { skip: helmSkip }, async (t) => {
  const dashboard = dashboardOf(await rendered());
  const file = JSON.parse(
    await readFile(join(CHART_DIR, 'dashboards', 'tandem.json'), 'utf8'),
  ) as Dashboard;
  t.strictSame(dashboard, file, 'the ConfigMap holds the file unchanged');
  const ids = dashboard.panels.map((p) => p.id);
  t.strictSame(ids.length, new Set(ids).size, 'panel ids are unique');
  for (const panel of dashboard.panels) {
    t.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} fits Grafana's 24 columns`);
    if (panel.type === 'row') continue;
    t.strictSame(
      panel.datasource?.uid,
      '${datasource}',
      `${panel.title} reads the chosen data source`,
    );
  }
});

/** metricNames are the tandem, process and Node metrics a query reads. */
function metricNames(expr: string): string[] {
  const names = [...expr.matchAll(/\b((?:tandem|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]);
  return names.filter((name): name is string => name !== undefined);
}

t.test(
  'every metric the alerts and the dashboard read is on a running tandem’s /metrics',
  { skip: helmSkip },
  async (t) => {
    const objects = await rendered();
    const read = new Set([
      ...ruleGroups(objects).groups.flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr))),
      ...queries(dashboardOf(objects)).flatMap((q) => metricNames(q.expr)),
    ]);
    t.ok(read.size >= 15, `the rules and dashboard read ${read.size} metrics`);

    const harness = await startHarness(t);
    await sendReview(harness, reviewFor(redisPod()));
    const scrape = await send({ port: harness.port, ca: harness.ca, path: '/metrics' });
    const exported = new Set<string>();
    for (const [, name, type] of scrape.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      if (name === undefined) continue;
      exported.add(name);
      if (type === 'histogram')
        for (const s of ['_bucket', '_sum', '_count']) exported.add(name + s);
    }
    for (const name of [...read].sort()) t.ok(exported.has(name), `${name} is exported`);
  },
);

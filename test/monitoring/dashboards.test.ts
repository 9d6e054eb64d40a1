import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exporterOnLab } from '../../services/exporter/test/support.ts';
import { freePort, type PrometheusServer, replayMetrics, startPrometheus } from '../support/prometheus.ts';
import { waitUntil } from '../support/waitUntil.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const RULES = join(ROOT, 'monitoring', 'prometheus', 'rules');
const DASHBOARDS = join(ROOT, 'monitoring', 'grafana', 'provisioning', 'dashboards', 'dashboards');
const DCGM_CAPTURE = join(
  ROOT,
  'packages/host/test/fixtures/nvidia/dcgm/a30-rtx2000ada-mixed-mig-dcgm-metrics-1.txt',
);

/** Dashboard variables as Grafana would fill them for this lab. */
const VARIABLES: Record<string, string> = { $__range: '1h', $__interval: '1m', $user: 'alice', $gpu: '.*' };

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}
const ruleFiles = readdirSync(RULES).filter((f) => f.endsWith('.yml'));
const rules: Rule[] = ruleFiles.flatMap((f) =>
  (parse(readFileSync(join(RULES, f), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
    (g) => g.rules,
  ),
);
const recordExprs = new Map(rules.filter((r) => r.record).map((r) => [r.record!, r.expr]));

/** Metric names and recorded series an expression reads (its selectors, with their label matchers). */
function selectors(expr: string): string[] {
  const found = expr.match(
    /\b(?:ds01[_:][a-zA-Z0-9_:]*|DCGM_FI_[A-Z_]+|node_[a-zA-Z0-9_]+|container_[a-z_]+|up)(?:\{[^}]*\})?/g,
  );
  return [...new Set(found ?? [])].filter((s) => !/^(ds01_category|ds01_component)/.test(s));
}

const metricOf = (selector: string) => selector.replace(/\{.*$/, '');

/** The metric families an expression needs in the end, through the recording rules it reads. */
function sources(expr: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  for (const name of selectors(expr).map(metricOf)) {
    const recorded = recordExprs.get(name);
    if (recorded && !seen.has(name)) {
      seen.add(name);
      for (const s of sources(recorded, seen)) out.add(s);
    } else if (!recorded) out.add(name);
  }
  return out;
}

/**
 * What this machine cannot have: a GPU (DCGM families beyond the captured page's three) and
 * cAdvisor. An expression that needs one of them is queried too, and listed with what it lacks.
 */
function unavailable(expr: string, captured: Set<string>): string[] {
  const lacking = [...sources(expr)].filter(
    (s) => (s.startsWith('DCGM_') && !captured.has(s)) || s.startsWith('container_'),
  );
  // No Grafana here (no Debian package), and no cAdvisor.
  for (const job of ['grafana', 'cadvisor'])
    if (expr.includes(`job="${job}"`)) lacking.push(`up{job="${job}"}`);
  return lacking;
}

function fill(expr: string): string {
  // A subquery's step (`[$__range:1h]`) longer than this Prometheus has been running finds no
  // sample: step it by the second here (what it computes is the same).
  let out = expr.replace(/\[\$__range:\d+[smhd]\]/g, '[$__range:1s]');
  for (const [name, value] of Object.entries(VARIABLES)) out = out.replaceAll(name, value);
  return out;
}

function dashboardExprs(): { dashboard: string; panel: string; expr: string }[] {
  const found: { dashboard: string; panel: string; expr: string }[] = [];
  for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8'));
    const walk = (panel: { title?: string; targets?: { expr?: string }[]; panels?: unknown[] }) => {
      for (const target of panel.targets ?? []) {
        if (target.expr) found.push({ dashboard: file, panel: panel.title ?? '', expr: target.expr });
      }
      for (const inner of (panel.panels ?? []) as (typeof panel)[]) walk(inner);
    };
    for (const panel of dashboard.panels) walk(panel);
  }
  return found;
}

describe('ds01-infra rules and dashboards against DS01 in a real Prometheus', () => {
  let lab: Awaited<ReturnType<typeof exporterOnLab>>;
  let dcgm: Awaited<ReturnType<typeof replayMetrics>>;
  let nodeExporter: ChildProcess;
  let alertmanager: ChildProcess;
  let prometheus: PrometheusServer;
  const captured = new Set(
    readFileSync(DCGM_CAPTURE, 'utf8')
      .split('\n')
      .map((l) => /^(DCGM_FI_[A-Z_]+)/.exec(l)?.[1])
      .filter((m): m is string => m !== undefined),
  );

  beforeAll(async () => {
    lab = await exporterOnLab(new Date(), { live: true });
    dcgm = await replayMetrics(readFileSync(DCGM_CAPTURE, 'utf8'));
    const nodePort = await freePort();
    nodeExporter = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nodePort}`], {
      stdio: 'ignore',
    });
    const alertmanagerPort = await freePort();
    const alertmanagerData = mkdtempSync(join(tmpdir(), 'ds01-alertmanager-'));
    alertmanager = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${join(ROOT, 'monitoring', 'alertmanager', 'alertmanager.yml')}`,
        `--storage.path=${alertmanagerData}`,
        `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
        '--cluster.listen-address=',
      ],
      { stdio: 'ignore' },
    );
    alertmanager.once('exit', () => rmSync(alertmanagerData, { recursive: true, force: true }));
    // Every rule group evaluated each second: the expressions are under test here, not their intervals.
    const fast = Object.fromEntries(
      ruleFiles.map((f) => [
        f,
        readFileSync(join(RULES, f), 'utf8').replace(/interval: \d+[smh]/g, 'interval: 1s'),
      ]),
    );
    prometheus = await startPrometheus(
      `
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${ruleFiles.map((f) => `'${f}'`).join(', ')}]
scrape_configs:
  - { job_name: ds01-exporter, static_configs: [{ targets: ['${lab.target}'] }] }
  - { job_name: dcgm-exporter, static_configs: [{ targets: ['${dcgm.target}'] }] }
  - { job_name: node-exporter, static_configs: [{ targets: ['127.0.0.1:${nodePort}'] }] }
  - { job_name: alertmanager, static_configs: [{ targets: ['127.0.0.1:${alertmanagerPort}'] }] }
`,
      fast,
    );
    await prometheus.targetsUp(4);
    // increase() and rate() need two samples; recorded series their first evaluation.
    await waitUntil(
      async () => (await prometheus.query('ds01:system_gpu_slots_total')).length > 0,
      'rules evaluated',
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    nodeExporter?.kill('SIGTERM');
    alertmanager?.kill('SIGTERM');
    await dcgm?.close();
    await lab?.close();
  });

  it('every recording rule records data, unless it needs what this machine cannot have (a GPU, cAdvisor)', async () => {
    const empty: string[] = [];
    const lacking: string[] = [];
    for (const [record, expr] of recordExprs) {
      const missing = unavailable(expr, captured);
      const rows = await prometheus.query(record);
      if (rows.length > 0) continue;
      if (missing.length > 0) lacking.push(`${record} (needs ${missing.join(', ')})`);
      else empty.push(record);
    }
    expect(empty, 'recording rules with no data').toEqual([]);
    // Said, not hidden: what a GPU host adds.
    console.info(`recording rules that need a GPU's DCGM series or cAdvisor:\n  ${lacking.join('\n  ')}`);
    expect(lacking.length).toBeLessThan(recordExprs.size);
  });

  it("every series an alert rule reads is served (DS01's exporter, the node exporter, the DCGM page)", async () => {
    const empty: string[] = [];
    for (const rule of rules.filter((r) => r.alert)) {
      for (const selector of selectors(rule.expr)) {
        if (unavailable(selector, captured).length > 0) continue;
        if ((await prometheus.query(selector)).length === 0) empty.push(`${rule.alert}: ${selector}`);
      }
    }
    expect(empty).toEqual([]);
  });

  it('every PromQL expression of every dashboard returns data, unless it needs a GPU or cAdvisor', async () => {
    const exprs = dashboardExprs();
    expect(exprs.length).toBeGreaterThan(60);
    const empty: string[] = [];
    for (const { dashboard, panel, expr } of exprs) {
      const rows = await prometheus.query(fill(expr));
      if (rows.length === 0 && unavailable(expr, captured).length === 0)
        empty.push(`${dashboard} "${panel}": ${expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('the History and Green dashboard reads the usage history from the exporter', async () => {
    const green = JSON.parse(readFileSync(join(DASHBOARDS, 'ds01_green.json'), 'utf8'));
    for (const panel of green.panels) {
      for (const target of panel.targets) {
        if (!target.url) continue;
        const query = new URLSearchParams(
          target.url_options.params.map((p: { key: string; value: string }) => [p.key, p.value]),
        );
        const response = await fetch(`${lab.url}${target.url}?${query}`);
        expect(response.status, panel.title).toBe(200);
        const body = (await response.json()) as { rows: Record<string, unknown>[] };
        expect(body.rows.length, panel.title).toBeGreaterThan(0);
        for (const column of target.columns)
          expect(body.rows[0], `${panel.title}: ${column.selector}`).toHaveProperty(column.selector);
      }
    }
  });
});

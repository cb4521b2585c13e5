/**
 * The sspi-agent Grafana dashboard, built with Grafana's Foundation SDK so its shape is type-checked.
 * `npm run dashboards` writes it to ../sspi-agent.json (classic dashboard JSON, Grafana 10+);
 * a test fails when the committed file differs from what this builds.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type Panel,
  type Threshold,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { ERROR_RATIO_THRESHOLDS, ERROR_STATUS, M, RECORDED, errorRatio, perMinute, quantile, rate, sel } from './promql.js';

export const DASHBOARD_UID = 'sspi-agent';

/** Every panel and every query reads the data source the `datasource` variable picks. */
const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** One query of a panel: its PromQL and legend. */
interface Query {
  expr: string;
  legend: string;
}

/** What every panel has: a title, a description, a unit, a width and its queries. */
interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  width: number;
  queries: Query[];
}

interface StatSpec extends PanelSpec {
  /** A value at or above this turns the stat red (rare events that should be 0). */
  redFrom?: number;
}

interface TimeseriesSpec extends PanelSpec {
  /** Threshold lines drawn on the graph (the alert thresholds). */
  thresholdLines?: { value: number; color: string }[];
  bars?: boolean;
}

/** Panel ids are stable: assigned in order as panels are created. */
let nextPanelId = 1;

function targets(queries: Query[]): cog.Builder<cog.Dataquery>[] {
  return queries.map((q, i) =>
    new DataqueryBuilder()
      .refId(String.fromCharCode(65 + i))
      .datasource(DATASOURCE)
      .expr(q.expr)
      .legendFormat(q.legend)
      .range(),
  );
}

function statPanel(spec: StatSpec): stat.PanelBuilder {
  const steps: Threshold[] = [{ value: null, color: 'green' }];
  if (spec.redFrom !== undefined) steps.push({ value: spec.redFrom, color: 'red' });
  return new stat.PanelBuilder()
    .id(nextPanelId++)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .height(4)
    .span(spec.width)
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps))
    .targets(targets(spec.queries));
}

function timeseriesPanel(spec: TimeseriesSpec): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .id(nextPanelId++)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .min(0)
    .height(8)
    .span(spec.width)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .targets(targets(spec.queries));
  if (spec.bars) panel.drawStyle(common.GraphDrawStyle.Bars).fillOpacity(60);
  if (spec.thresholdLines) {
    const steps: Threshold[] = [{ value: null, color: 'transparent' }, ...spec.thresholdLines];
    panel
      .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps))
      .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  }
  return panel;
}

function overviewRow(): cog.Builder<Panel>[] {
  return [
    statPanel({
      title: 'Live credentials',
      description: 'Credential handles acquired and not yet freed (FreeCredentialsHandle).',
      unit: 'short',
      width: 4,
      queries: [{ expr: `sum(${sel(M.handlesLive, 'kind="credential"')})`, legend: 'credentials' }],
    }),
    statPanel({
      title: 'Live contexts',
      description: 'Security contexts created and not yet deleted (DeleteSecurityContext).',
      unit: 'short',
      width: 4,
      queries: [{ expr: `sum(${sel(M.handlesLive, 'kind="context"')})`, legend: 'contexts' }],
    }),
    statPanel({
      title: 'Leaked in time range',
      description: 'Handles the agent found leaked in the selected time range (any reason).',
      unit: 'short',
      width: 4,
      redFrom: 1,
      queries: [{ expr: `sum(increase(${sel(M.handlesLeaked)}[$__range]))`, legend: 'leaked' }],
    }),
    statPanel({
      title: 'Stale now',
      description: 'Live handles older than their maximum age, or contexts whose handshake was left unfinished.',
      unit: 'short',
      width: 4,
      redFrom: 1,
      queries: [{ expr: `sum(${sel(M.handlesStale)})`, legend: 'stale' }],
    }),
    statPanel({
      title: 'Oldest live handle',
      description: 'Age of the oldest live handle of any kind.',
      unit: 's',
      width: 4,
      queries: [{ expr: `max(${sel(M.oldestAge)})`, legend: 'oldest' }],
    }),
    statPanel({
      title: 'SSPI error ratio',
      description: 'Share of SSPI calls that returned an error status (SEC_E_* other than SEC_E_OK).',
      unit: 'percentunit',
      width: 4,
      redFrom: ERROR_RATIO_THRESHOLDS.warning,
      queries: [{ expr: errorRatio(), legend: 'error ratio' }],
    }),
  ];
}

function handlesRow(): cog.Builder<Panel>[] {
  return [
    timeseriesPanel({
      title: 'Live handles by kind and package',
      description: 'SSPI handles currently live. A line that only goes up is a leak.',
      unit: 'short',
      width: 12,
      queries: [{ expr: `sum by (kind, package) (${sel(M.handlesLive)})`, legend: '{{kind}} {{package}}' }],
    }),
    timeseriesPanel({
      title: 'Opened vs closed',
      description: 'Handles created and released per second. Opened above closed, for long, is a leak.',
      unit: 'ops',
      width: 12,
      queries: [
        { expr: `sum by (kind) (${rate(M.handlesOpened)})`, legend: 'opened {{kind}}' },
        { expr: `sum by (kind) (${rate(M.handlesClosed)})`, legend: 'closed {{kind}}' },
      ],
    }),
    timeseriesPanel({
      title: 'Leaks by reason',
      description:
        'Handles found leaked per minute: age (older than SSPI_AGENT_MAX_AGE_*), abandoned (handshake unfinished), ' +
        'collected (its JS holder was garbage-collected while live), exit (live when the process ended).',
      unit: 'opm',
      width: 8,
      bars: true,
      queries: [{ expr: perMinute('kind, reason', M.handlesLeaked), legend: '{{kind}} {{reason}}' }],
    }),
    timeseriesPanel({
      title: 'Stale and abandoned handles',
      description: 'Live handles the agent flagged stale (age) or whose handshake was abandoned, still not released.',
      unit: 'short',
      width: 8,
      queries: [{ expr: `sum by (kind, reason) (${sel(M.handlesStale)})`, legend: '{{kind}} {{reason}}' }],
    }),
    timeseriesPanel({
      title: 'Oldest live handle age',
      description: 'Age of the oldest live handle of each kind. A sawtooth is healthy; a straight climb is a handle never released.',
      unit: 's',
      width: 8,
      queries: [{ expr: `max by (kind) (${sel(M.oldestAge)})`, legend: '{{kind}}' }],
    }),
    timeseriesPanel({
      title: 'Live-handle trend (handles per hour, 1h fit)',
      description:
        'Growth of live handles per hour, fitted over the last hour: what the SspiHandlesGrowing alert watches ' +
        '(recorded by the sspi-agent recording rules).',
      unit: 'short',
      width: 12,
      queries: [{ expr: `3600 * sum by (kind, package) (${sel(RECORDED.liveDeriv1h)})`, legend: '{{kind}} {{package}}' }],
    }),
    timeseriesPanel({
      title: 'Handle lifetime p50 / p99',
      description: 'Time from creation to release of the handles released in each interval.',
      unit: 's',
      width: 12,
      queries: [
        { expr: quantile(0.5, M.lifetime, 'kind'), legend: 'p50 {{kind}}' },
        { expr: quantile(0.99, M.lifetime, 'kind'), legend: 'p99 {{kind}}' },
      ],
    }),
  ];
}

function callsRow(): cog.Builder<Panel>[] {
  return [
    timeseriesPanel({
      title: 'SSPI calls by status',
      description: 'SSPI calls per second by returned SECURITY_STATUS (by name; unnamed codes as 0x-hex).',
      unit: 'ops',
      width: 12,
      queries: [{ expr: `sum by (status) (${rate(M.calls)})`, legend: '{{status}}' }],
    }),
    timeseriesPanel({
      title: 'SSPI error ratio',
      description:
        'Share of SSPI calls that returned an error, per instance; dashed lines are the SspiCallErrorRatioHigh ' +
        'thresholds, the 5m series is what the alert evaluates (recording rules).',
      unit: 'percentunit',
      width: 12,
      thresholdLines: [
        { value: ERROR_RATIO_THRESHOLDS.warning, color: 'orange' },
        { value: ERROR_RATIO_THRESHOLDS.critical, color: 'red' },
      ],
      queries: [
        { expr: errorRatio('instance'), legend: '{{instance}}' },
        { expr: `max by (instance) (${sel(RECORDED.errorRatio5m)})`, legend: '{{instance}} 5m (alerted)' },
      ],
    }),
    timeseriesPanel({
      title: 'Failed calls by function and status',
      description: 'SSPI calls per second that returned an error status, by function.',
      unit: 'ops',
      width: 12,
      queries: [{ expr: `sum by (function, status) (${rate(M.calls, ERROR_STATUS)})`, legend: '{{function}} {{status}}' }],
    }),
    timeseriesPanel({
      title: 'Call latency p50 / p99 by function',
      description: 'Duration of SSPI calls as the agent measures them around the native call.',
      unit: 's',
      width: 12,
      queries: [
        { expr: quantile(0.5, M.callDuration, 'function'), legend: 'p50 {{function}}' },
        { expr: quantile(0.99, M.callDuration, 'function'), legend: 'p99 {{function}}' },
      ],
    }),
    timeseriesPanel({
      title: 'Negotiate: package that actually ran',
      description:
        'Negotiate logins per minute by the package that ran: Kerberos, NTLM (a fallback from Kerberos, which the ' +
        'SspiNtlmFallback alert watches), or unknown (no token named one). Each context counts once: a login in one ' +
        'process counts its client and its server side.',
      unit: 'opm',
      width: 24,
      bars: true,
      queries: [{ expr: perMinute('negotiated', M.negotiations), legend: '{{negotiated}}' }],
    }),
  ];
}

function releasesRow(): cog.Builder<Panel>[] {
  return [
    timeseriesPanel({
      title: 'Invalid, double and out-of-order releases',
      description:
        'Per minute: releases of handles never seen (unknown), failed releases, second releases (double), calls on ' +
        'released handles (use_after_release), and credentials freed while their contexts were live.',
      unit: 'opm',
      width: 12,
      bars: true,
      queries: [
        { expr: perMinute('kind, reason', M.invalidReleases), legend: '{{kind}} {{reason}}' },
        { expr: perMinute('kind', M.outOfOrderReleases), legend: '{{kind}} freed before its contexts' },
      ],
    }),
    timeseriesPanel({
      title: 'Forced cleanups',
      description:
        "Per minute: handles the agent released itself in its ordered cleanup (SSPI_AGENT_CLEANUP), by result, " +
        'and provider libraries unloaded while handles were live.',
      unit: 'opm',
      width: 12,
      bars: true,
      queries: [
        { expr: perMinute('kind, result', M.forcedReleases), legend: '{{kind}} {{result}}' },
        { expr: `60 * sum(${rate(M.unloadWithLiveHandles)})`, legend: 'unloaded with live handles' },
      ],
    }),
    timeseriesPanel({
      title: 'Agent errors',
      description: "The agent's own internal errors per minute, by where they happened (the app's calls were not affected).",
      unit: 'opm',
      width: 24,
      bars: true,
      // The series exists only after a first error: `or on() vector(0)` draws 0 until then.
      queries: [{ expr: `${perMinute('where', M.agentErrors)} or on() vector(0)`, legend: '{{where}}' }],
    }),
  ];
}

function variables() {
  return [
    new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    new QueryVariableBuilder('job')
      .label('job')
      .datasource(DATASOURCE)
      .query(`label_values(${M.handlesLive}, job)`)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.+'),
    new QueryVariableBuilder('instance')
      .label('instance')
      .datasource(DATASOURCE)
      .query(`label_values(${M.handlesLive}{job=~"$job"}, instance)`)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.+'),
  ];
}

export function buildDashboard(): Dashboard {
  nextPanelId = 1;
  const builder = new DashboardBuilder('SSPI handles (sspi-agent)')
    .uid(DASHBOARD_UID)
    .description('Live SSPI credential handles and security contexts, leaks, SSPI call statuses and latency, from sspi-agent.')
    .tags(['sspi-agent', 'sspi'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .annotation(
      new AnnotationQueryBuilder()
        .name('Annotations & Alerts')
        .datasource({ type: 'grafana', uid: '-- Grafana --' })
        .builtIn(1)
        .enable(true)
        .hide(true)
        .iconColor('rgba(0, 211, 255, 1)')
        .type('dashboard'),
    );
  for (const v of variables()) builder.withVariable(v);
  const rows: [string, () => cog.Builder<Panel>[]][] = [
    ['Overview', overviewRow],
    ['Handles', handlesRow],
    ['Calls', callsRow],
    ['Releases and cleanup', releasesRow],
  ];
  for (const [title, panels] of rows) {
    builder.withRow(new RowBuilder(title).id(nextPanelId++));
    for (const panel of panels()) builder.withPanel(panel);
  }
  return builder.build();
}

/** The file's text: two-space JSON and a final newline, as committed. */
export function dashboardJson(): string {
  return JSON.stringify(buildDashboard(), null, 2) + '\n';
}


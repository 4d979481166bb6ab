import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/** deploy/: the alert rules (promtool checks their syntax and behaviour in .ci/run) and the Grafana dashboard. */
const ROOT = join(__dirname, '..', '..', '..');

describe('deploy/alerts.yml', () => {
  const rules = (
    parse(readFileSync(join(ROOT, 'deploy', 'alerts.yml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string; for?: string }> }>;
    }
  ).groups.flatMap((group) => group.rules);
  const rule = (name: string) => rules.find((candidate) => candidate.alert === name)!;

  it('alerts on the conditions ops asked for, with the agreed thresholds', () => {
    expect(rule('PaymentsDeadLettersWaiting')).toMatchObject({ for: '15m' });
    expect(rule('PaymentsDeadLettersWaiting').expr).toMatch(/payments_dlq_messages\) > 0/);
    expect(rule('PaymentsConsumerStalled')).toMatchObject({ for: '5m' });
    expect(rule('PaymentsConsumerStalled').expr).toMatch(
      /payments_consumer_pending_messages[\s\S]*increase\(payments_events_total\[5m\]\)\) == 0/,
    );
    expect(rule('PaymentsConsumerRebinding').expr).toContain('increase(payments_consumer_rebinds_total[10m])) > 3');
    expect(rule('PaymentsAuditDiscrepancies').expr).toMatch(/payments_audit_discrepancies\) > 0/);
    expect(rule('PaymentsDisputesAwaitingResponse').expr).toMatch(/payments_disputes_open\) > 0/);
    expect(rule('PaymentsWebhooksUnavailable')).toMatchObject({ for: '5m' });
    expect(rule('PaymentsWebhooksUnavailable').expr).toMatch(/outcome="unavailable"[\s\S]*> 0\.01$/);
  });
});

describe('deploy/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana-dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n');

  it('has a panel for each thing on call watches', () => {
    for (const metric of [
      'payments_webhook_requests_total',
      'payments_settlement_duration_seconds_bucket',
      'payments_consumer_pending_messages',
      'payments_dlq_messages',
      'payments_disputes_open',
      'payments_audit_discrepancies',
      'payments_graphql_errors_total',
      'payments_provider_calls_total',
      'payments_provider_call_duration_seconds_bucket',
      'payments_pay_link_clicks_total',
      'payments_refunds_total',
      'payments_background_runs_total',
      'payments_dlq_auto_retries_total',
    ])
      expect(exprs).toContain(metric);
  });

  it('gives every panel a title and a query, and uses only the service metrics', () => {
    for (const panel of dashboard.panels) {
      expect(panel.title).toBeTruthy();
      expect(panel.targets.length).toBeGreaterThan(0);
    }
    const metrics = new Set(
      exprs.match(/\b[a-z_]+(?=\{|\[|\))/g)?.filter((name) => name.includes('_total') || name.startsWith('payments_')),
    );
    for (const metric of metrics) expect(metric).toMatch(/^payments_/);
  });
});

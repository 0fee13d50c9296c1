import type { PgAdapter } from '../connections/adapter.js';

/**
 * The demo's closing summary, read back from the serving tables the daily pipeline published
 * to WAREHOUSE (definitions: docs/metrics.md): data quality over the period, the KPIs of the
 * last seven days per game, retention, VIP tiers and detected bot farmers.
 */
export async function printKpiSummary(warehouse: PgAdapter, days: string[]): Promise<void> {
  const first = days[0]!;
  const last = days.at(-1)!;
  const range = `ds BETWEEN '${first}' AND '${last}'`;
  await warehouse.withSession(async (s) => {
    const quality = await s.query(`
      SELECT sum(raw)::bigint AS raw, sum(valid)::bigint AS valid, sum(invalid)::bigint AS invalid,
             sum(duplicates)::bigint AS duplicates, sum(quarantined)::bigint AS quarantined,
             bool_and(reconciled) AS reconciled
        FROM quality_daily WHERE ${range}`);
    const q = quality.rows[0] as Record<string, string | boolean | null>;
    console.log(`Data quality ${first} … ${last}: ${fmt(q.raw)} bronze events = ${fmt(q.valid)} valid + ${fmt(q.invalid)} invalid + ` +
      `${fmt(q.duplicates)} duplicates (${q.reconciled ? 'reconciled' : 'NOT reconciled'}); ${fmt(q.quarantined)} unparsable lines quarantined`);

    const totals = await s.query(`
      SELECT game_id, round(avg(dau))::bigint AS avg_dau, sum(nru)::bigint AS nru, sum(npu)::bigint AS new_payers,
             round(sum(revenue_usd), 2)::text AS revenue_usd,
             round(sum(revenue_usd) / nullif(sum(dau), 0), 4)::text AS arpu_usd
        FROM kpi_daily WHERE ${range} GROUP BY game_id ORDER BY game_id`);
    console.log(`\nPer game over the ${days.length} days (WAREHOUSE.kpi_daily; ARPU = revenue / user-days)`);
    console.table(totals.rows);

    const recent = await s.query(`
      SELECT to_char(ds, 'YYYY-MM-DD') AS ds, game_id, dau, nru, pu, npu, round(revenue_usd, 2)::text AS revenue_usd,
             round(arpu, 4)::text AS arpu, round(arppu, 2)::text AS arppu
        FROM kpi_daily WHERE ds > DATE '${last}' - 7 AND ds <= '${last}' ORDER BY ds, game_id`);
    console.log('Last 7 days (WAREHOUSE.kpi_daily)');
    console.table(recent.rows);

    const retention = await s.query(`
      SELECT game_id,
             round(100.0 * sum(retained) FILTER (WHERE day_n = 1) / nullif(sum(cohort_size) FILTER (WHERE day_n = 1), 0), 1)::text AS d1_pct,
             round(100.0 * sum(retained) FILTER (WHERE day_n = 7) / nullif(sum(cohort_size) FILTER (WHERE day_n = 7), 0), 1)::text AS d7_pct,
             round(100.0 * sum(retained) FILTER (WHERE day_n = 14) / nullif(sum(cohort_size) FILTER (WHERE day_n = 14), 0), 1)::text AS d14_pct
        FROM retention_cohorts WHERE ${range} GROUP BY game_id ORDER BY game_id`);
    console.log('Retention, all cohorts of the period (WAREHOUSE.retention_cohorts)');
    console.table(retention.rows);

    const vip = await s.query(`
      SELECT vip_tier, count(*)::bigint AS players, round(sum(total_revenue_usd), 2)::text AS lifetime_revenue_usd
        FROM cumulative_revenue WHERE ds = '${last}' GROUP BY vip_tier ORDER BY vip_tier`);
    console.log(`Paying players by VIP tier on ${last} (WAREHOUSE.cumulative_revenue)`);
    console.table(vip.rows);

    const farmers = await s.query(`
      SELECT game_id, count(*)::bigint AS accounts, count(DISTINCT ip)::bigint AS shared_ips
        FROM farmers_snapshot GROUP BY game_id ORDER BY game_id`);
    console.log('Detected bot farmers (WAREHOUSE.farmers_snapshot)');
    console.table(farmers.rows);
  });
}

function fmt(value: string | boolean | null | undefined): string {
  return value === null || value === undefined ? '0' : Number(value).toLocaleString('en-US');
}

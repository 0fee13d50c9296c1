/**
 * The Overview's tiles: one figure per KPI for a range of days, and the same for the
 * previous range of equal length, from kpi_daily rows (docs/metrics.md has the daily KPIs).
 * - DAU, PU: the mean of the days' values (a typical day of the range).
 * - NRU, NPU, revenue: sums over the days.
 * - ARPU: revenue ÷ Σ DAU (revenue per daily active user, weighted by each day's DAU).
 * - ARPPU: revenue ÷ Σ PU.
 * A ratio with a zero denominator, and every figure of an empty range, is null.
 */
export interface KpiDay {
  ds: string;
  dau: number;
  nru: number;
  pu: number;
  npu: number;
  revenueUsd: number;
  arpu: number | null;
  arppu: number | null;
}

export interface KpiTiles {
  days: number;
  dau: number | null;
  nru: number | null;
  pu: number | null;
  npu: number | null;
  revenueUsd: number | null;
  arpu: number | null;
  arppu: number | null;
}

export function summarizeKpis(rows: KpiDay[]): KpiTiles {
  const n = rows.length;
  if (n === 0) return { days: 0, dau: null, nru: null, pu: null, npu: null, revenueUsd: null, arpu: null, arppu: null };
  const sum = (f: (r: KpiDay) => number) => rows.reduce((s, r) => s + f(r), 0);
  const dau = sum((r) => r.dau);
  const pu = sum((r) => r.pu);
  const revenue = sum((r) => r.revenueUsd);
  return {
    days: n,
    dau: dau / n,
    nru: sum((r) => r.nru),
    pu: pu / n,
    npu: sum((r) => r.npu),
    revenueUsd: revenue,
    arpu: dau > 0 ? revenue / dau : null,
    arppu: pu > 0 ? revenue / pu : null,
  };
}

/** Relative change from `previous` to `current` (0.25 = +25 %); null when either is unknown or previous is 0. */
export function changeOf(current: number | null, previous: number | null): number | null {
  if (current === null || previous === null || previous === 0) return null;
  return (current - previous) / previous;
}

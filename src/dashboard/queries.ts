import type { PgAdapter, PgSession } from '../connections/adapter.js';

import { changeOf, summarizeKpis, type KpiDay, type KpiTiles } from './kpiSummary.js';
import { addDays, dateRange } from '../core/dates.js';

/**
 * The dashboard's reads of the serving tables in WAREHOUSE, one function per page. Every
 * answer says which days of the range have no rows yet (`missingDays`: not computed, or no
 * data), so a page can tell "not computed" from "zero". Numbers come back as JS numbers
 * (PostgreSQL numeric and bigint cast to float8: exact for integers below 2^53).
 */
export interface Range {
  gameId: string;
  from: string;
  to: string;
}

const day = (column: string) => `to_char(${column}, 'YYYY-MM-DD')`;

async function tableExists(s: PgSession, table: string): Promise<boolean> {
  return Boolean((await s.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [table])).rows[0]?.ok);
}

/** Rows of `sql` if every table exists, else none (a fresh warehouse before the first run). */
async function rowsIf<Row>(s: PgSession, tables: string[], sql: string, params: unknown[]): Promise<Row[]> {
  for (const t of tables) if (!(await tableExists(s, t))) return [];
  return (await s.query<Row>(sql, params)).rows;
}

async function missingDays(s: PgSession, table: string, r: Range): Promise<string[]> {
  const present = new Set(
    (await rowsIf<{ ds: string }>(s, [table], `SELECT DISTINCT ${day('ds')} AS ds FROM ${table} WHERE game_id = $1 AND ds BETWEEN $2::date AND $3::date`, [r.gameId, r.from, r.to])).map(
      (x) => x.ds,
    ),
  );
  return dateRange(r.from, r.to).filter((d) => !present.has(d));
}

export interface GameInfo {
  gameId: string;
  firstDay: string;
  lastDay: string;
}

/** Games with computed KPIs, and their first and last computed day. */
export async function listGames(db: PgAdapter): Promise<GameInfo[]> {
  return db.withSession((s) =>
    rowsIf<GameInfo>(s, ['kpi_daily'], `SELECT game_id AS "gameId", ${day('min(ds)')} AS "firstDay", ${day('max(ds)')} AS "lastDay" FROM kpi_daily GROUP BY game_id ORDER BY game_id`, []),
  );
}

export interface Overview extends Range {
  missingDays: string[];
  days: KpiDay[];
  tiles: KpiTiles;
  previous: KpiTiles & { from: string; to: string };
  change: Record<Exclude<keyof KpiTiles, 'days'>, number | null>;
  byCountry: { countryCode: string; userDays: number }[];
  byPlatform: { platform: string; userDays: number }[];
}

const KPI_SQL = `SELECT ${day('ds')} AS ds, dau::float8 AS dau, nru::float8 AS nru, pu::float8 AS pu, npu::float8 AS npu,
  revenue_usd::float8 AS "revenueUsd", arpu::float8 AS arpu, arppu::float8 AS arppu
  FROM kpi_daily WHERE game_id = $1 AND ds BETWEEN $2::date AND $3::date ORDER BY ds`;

export async function readOverview(db: PgAdapter, r: Range): Promise<Overview> {
  const length = dateRange(r.from, r.to).length;
  const prev = { from: addDays(r.from, -length), to: addDays(r.from, -1) };
  return db.withSession(async (s) => {
    const days = await rowsIf<KpiDay>(s, ['kpi_daily'], KPI_SQL, [r.gameId, r.from, r.to]);
    const before = await rowsIf<KpiDay>(s, ['kpi_daily'], KPI_SQL, [r.gameId, prev.from, prev.to]);
    const users = await rowsIf<{ countryCode: string; platform: string; users: number }>(
      s,
      ['daily_users_by_country_platform'],
      `SELECT coalesce(country_code, 'unknown') AS "countryCode", coalesce(platform, 'unknown') AS platform, sum(users)::float8 AS users
       FROM daily_users_by_country_platform WHERE game_id = $1 AND ds BETWEEN $2::date AND $3::date GROUP BY 1, 2`,
      [r.gameId, r.from, r.to],
    );
    const group = <K extends 'countryCode' | 'platform'>(key: K) => {
      const m = new Map<string, number>();
      for (const u of users) m.set(u[key], (m.get(u[key]) ?? 0) + u.users);
      return [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    };
    const tiles = summarizeKpis(days);
    const previous = summarizeKpis(before);
    const keys = ['dau', 'nru', 'pu', 'npu', 'revenueUsd', 'arpu', 'arppu'] as const;
    return {
      ...r,
      missingDays: await missingDays(s, 'kpi_daily', r),
      days,
      tiles,
      previous: { ...previous, ...prev },
      change: Object.fromEntries(keys.map((k) => [k, changeOf(tiles[k], previous[k])])) as Overview['change'],
      byCountry: group('countryCode').map(([countryCode, userDays]) => ({ countryCode, userDays })),
      byPlatform: group('platform').map(([platform, userDays]) => ({ platform, userDays })),
    };
  });
}

export interface RetentionCell {
  cohortDs: string;
  dayN: number;
  cohortSize: number;
  retained: number;
  rate: number | null;
}

/** Cohorts installed in the range, D1…D30 (the newest computation of each cell). */
export async function readRetention(db: PgAdapter, r: Range): Promise<Range & { missingDays: string[]; cells: RetentionCell[] }> {
  return db.withSession(async (s) => ({
    ...r,
    missingDays: await missingDays(s, 'kpi_daily', r),
    cells: await rowsIf<RetentionCell>(
      s,
      ['retention_cohorts'],
      `SELECT DISTINCT ON (cohort_ds, day_n) ${day('cohort_ds')} AS "cohortDs", day_n AS "dayN", cohort_size::float8 AS "cohortSize",
         retained::float8 AS retained, rate::float8 AS rate
       FROM retention_cohorts WHERE game_id = $1 AND cohort_ds BETWEEN $2::date AND $3::date AND day_n BETWEEN 1 AND 30
       ORDER BY cohort_ds, day_n, ds DESC`,
      [r.gameId, r.from, r.to],
    ),
  }));
}

export interface Monetization extends Range {
  missingDays: string[];
  vipTiers: { vipTier: string; users: number; totalRevenueUsd: number }[];
  revenue: { ds: string; revenueUsd: number; cumulativeRevenueUsd: number }[];
  shop: { ds: string; orders: number; gmvUsd: number; buyers: number; gmvGrowth: number | null }[];
  shopFunnel: { sessions: number; sessionsWithView: number; sessionsWithClick: number; sessionsWithOrder: number };
  offers: { offerId: string; views: number; clicks: number; orders: number; gmvUsd: number; ctr: number | null; conversion: number | null; rankByGmv: number }[];
  hourly: { hour: number; events: number; purchases: number; revenueUsd: number }[];
}

export async function readMonetization(db: PgAdapter, r: Range): Promise<Monetization> {
  const p = [r.gameId, r.from, r.to];
  const inRange = `game_id = $1 AND ds BETWEEN $2::date AND $3::date`;
  return db.withSession(async (s) => {
    const funnel = await rowsIf<Monetization['shopFunnel']>(
      s,
      ['shop_funnel'],
      `SELECT coalesce(sum(sessions), 0)::float8 AS sessions, coalesce(sum(sessions_with_view), 0)::float8 AS "sessionsWithView",
         coalesce(sum(sessions_with_click), 0)::float8 AS "sessionsWithClick", coalesce(sum(sessions_with_order), 0)::float8 AS "sessionsWithOrder"
       FROM shop_funnel WHERE ${inRange}`,
      p,
    );
    return {
      ...r,
      missingDays: await missingDays(s, 'kpi_daily', r),
      vipTiers: await rowsIf(
        s,
        ['cumulative_revenue'],
        `SELECT vip_tier AS "vipTier", count(*)::float8 AS users, sum(total_revenue_usd)::float8 AS "totalRevenueUsd" FROM cumulative_revenue
         WHERE game_id = $1 AND ds = (SELECT max(ds) FROM cumulative_revenue WHERE game_id = $1 AND ds BETWEEN $2::date AND $3::date)
         GROUP BY vip_tier ORDER BY min(total_revenue_usd)`,
        p,
      ),
      revenue: await rowsIf(
        s,
        ['cumulative_revenue'],
        `SELECT ${day('ds')} AS ds, sum(daily_revenue_usd)::float8 AS "revenueUsd", sum(total_revenue_usd)::float8 AS "cumulativeRevenueUsd"
         FROM cumulative_revenue WHERE ${inRange} GROUP BY ds ORDER BY ds`,
        p,
      ),
      shop: await rowsIf(
        s,
        ['shop_daily'],
        `SELECT ${day('ds')} AS ds, orders::float8 AS orders, gmv_usd::float8 AS "gmvUsd", buyers::float8 AS buyers, gmv_growth_vs_prev_day::float8 AS "gmvGrowth"
         FROM shop_daily WHERE ${inRange} ORDER BY ds`,
        p,
      ),
      shopFunnel: funnel[0] ?? { sessions: 0, sessionsWithView: 0, sessionsWithClick: 0, sessionsWithOrder: 0 },
      offers: await rowsIf(
        s,
        ['offer_performance'],
        `SELECT offer_id AS "offerId", sum(views)::float8 AS views, sum(clicks)::float8 AS clicks, sum(orders)::float8 AS orders, sum(gmv_usd)::float8 AS "gmvUsd",
           (sum(clicks)::float8 / nullif(sum(views), 0)) AS ctr, (sum(orders)::float8 / nullif(sum(clicks), 0)) AS conversion,
           rank() OVER (ORDER BY sum(gmv_usd) DESC)::int AS "rankByGmv"
         FROM offer_performance WHERE ${inRange} GROUP BY offer_id ORDER BY "rankByGmv", offer_id`,
        p,
      ),
      hourly: await rowsIf(
        s,
        ['hourly_patterns'],
        `SELECT hour, sum(events)::float8 AS events, sum(purchases)::float8 AS purchases, sum(revenue_usd)::float8 AS "revenueUsd"
         FROM hourly_patterns WHERE ${inRange} GROUP BY hour ORDER BY hour`,
        p,
      ),
    };
  });
}

export interface Economy extends Range {
  missingDays: string[];
  itemsByReason: { direction: string; reason: string; quantity: number; users: number }[];
  currencyByReason: { currency: string; direction: string; reason: string; amount: number; users: number }[];
  keyItems: { itemId: string; gained: number; spent: number }[];
  balance: { ds: string; currency: string; net: number; cumulativeNet: number }[];
}

export async function readEconomy(db: PgAdapter, r: Range): Promise<Economy> {
  const p = [r.gameId, r.from, r.to];
  const inRange = `game_id = $1 AND ds BETWEEN $2::date AND $3::date`;
  return db.withSession(async (s) => ({
    ...r,
    missingDays: await missingDays(s, 'kpi_daily', r),
    itemsByReason: await rowsIf(
      s,
      ['item_flow'],
      `SELECT direction, coalesce(reason_name, reason_id::text, 'unknown') AS reason, sum(quantity)::float8 AS quantity, sum(users)::float8 AS users
       FROM item_flow WHERE ${inRange} GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`,
      p,
    ),
    currencyByReason: await rowsIf(
      s,
      ['currency_flow'],
      `SELECT currency, direction, coalesce(reason_name, reason_id::text, 'unknown') AS reason, sum(amount)::float8 AS amount, sum(users)::float8 AS users
       FROM currency_flow WHERE ${inRange} GROUP BY 1, 2, 3 ORDER BY 1, 2, 4 DESC, 3`,
      p,
    ),
    keyItems: await rowsIf(
      s,
      ['item_flow'],
      `SELECT item_id AS "itemId", coalesce(sum(quantity) FILTER (WHERE direction = 'gain'), 0)::float8 AS gained,
         coalesce(sum(quantity) FILTER (WHERE direction = 'spend'), 0)::float8 AS spent
       FROM item_flow WHERE ${inRange} GROUP BY item_id ORDER BY sum(quantity) DESC, item_id LIMIT 10`,
      p,
    ),
    balance: await rowsIf(
      s,
      ['currency_flow'],
      `SELECT ds, currency, net, sum(net) OVER (PARTITION BY currency ORDER BY ds)::float8 AS "cumulativeNet" FROM (
         SELECT ${day('ds')} AS ds, currency, (coalesce(sum(amount) FILTER (WHERE direction = 'gain'), 0) - coalesce(sum(amount) FILTER (WHERE direction = 'spend'), 0))::float8 AS net
         FROM currency_flow WHERE ${inRange} GROUP BY ds, currency) d ORDER BY ds, currency`,
      p,
    ),
  }));
}

/** The values present for each level-funnel filter in the range (what the page's multi-selects offer). */
export async function readFunnelFilterValues(db: PgAdapter, r: Range): Promise<Record<'platform' | 'country' | 'appVersion' | 'levelFunnel' | 'levelFunnelVersion', string[]>> {
  return db.withSession(async (s) => {
    const values = async (column: string) =>
      (
        await rowsIf<{ v: string }>(
          s,
          ['level_metrics_daily'],
          `SELECT DISTINCT ${column}::text AS v FROM level_metrics_daily WHERE game_id = $1 AND date BETWEEN $2::date AND $3::date AND ${column} IS NOT NULL ORDER BY 1`,
          [r.gameId, r.from, r.to],
        )
      ).map((x) => x.v);
    return {
      platform: await values('platform'),
      country: await values('country_code'),
      appVersion: await values('app_version'),
      levelFunnel: await values('level_funnel'),
      levelFunnelVersion: (await values('level_funnel_version')).sort((a, b) => Number(a) - Number(b)),
    };
  });
}

/** Per game: the newest day in level_metrics_daily and the last time its index was rebuilt. */
export async function readFunnelFreshness(db: PgAdapter, indexJob: string): Promise<{ gameId: string; lastDay: string | null; indexBuiltAt: string | null; indexStatus: string | null }[]> {
  return db.withSession(async (s) => {
    const days = await rowsIf<{ gameId: string; lastDay: string }>(s, ['level_metrics_daily'], `SELECT game_id AS "gameId", ${day('max(date)')} AS "lastDay" FROM level_metrics_daily GROUP BY 1 ORDER BY 1`, []);
    const builds = await rowsIf<{ gameId: string; at: string; status: string }>(
      s,
      ['etl_run_log'],
      `SELECT DISTINCT ON (vars->>'gameId') vars->>'gameId' AS "gameId", to_char(coalesce(ended_at, started_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at, status
       FROM etl_run_log WHERE job = $1 ORDER BY vars->>'gameId', started_at DESC`,
      [indexJob],
    );
    const byGame = new Map(builds.map((b) => [b.gameId, b]));
    return days.map((d) => ({ gameId: d.gameId, lastDay: d.lastDay, indexBuiltAt: byGame.get(d.gameId)?.at ?? null, indexStatus: byGame.get(d.gameId)?.status ?? null }));
  });
}

export interface QualityDay {
  ds: string;
  raw: number;
  valid: number;
  invalid: number;
  duplicates: number;
  quarantined: number;
  invalidByRule: Record<string, number>;
  quarantinedByReason: Record<string, number>;
}

/** Data quality per day (every game: silver is built per day), from quality_daily. */
export async function readQuality(db: PgAdapter, q: { from: string; to: string }): Promise<QualityDay[]> {
  return db.withSession((s) =>
    rowsIf<QualityDay>(
      s,
      ['quality_daily'],
      `SELECT ${day('ds')} AS ds, raw::float8 AS raw, valid::float8 AS valid, invalid::float8 AS invalid, duplicates::float8 AS duplicates,
         quarantined::float8 AS quarantined, coalesce(invalid_by_rule, '{}'::jsonb) AS "invalidByRule", coalesce(quarantined_by_reason, '{}'::jsonb) AS "quarantinedByReason"
       FROM quality_daily WHERE ds BETWEEN $1::date AND $2::date ORDER BY ds`,
      [q.from, q.to],
    ),
  );
}

/** Consumer progress of the stream aggregator: per partition, the next offset and how far its event time is behind now. */
export async function readStreamLag(db: PgAdapter): Promise<{ groupId: string; topic: string; partition: number; nextOffset: number; eventTimeLagSeconds: number | null; updatedSecondsAgo: number }[]> {
  return db.withSession((s) =>
    rowsIf(
      s,
      ['rt_offsets'],
      `SELECT group_id AS "groupId", topic, partition, next_offset::float8 AS "nextOffset",
         extract(epoch FROM now() - max_event_ts)::float8 AS "eventTimeLagSeconds", extract(epoch FROM now() - updated_at)::float8 AS "updatedSecondsAgo"
       FROM rt_offsets ORDER BY group_id, topic, partition`,
      [],
    ),
  );
}

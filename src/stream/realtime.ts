import type { PgAdapter } from '../connections/adapter.js';
import { WINDOW_MS } from './config.js';
import { msToTimestampSql, timestampToMsSql } from './tables.js';

/**
 * Reading the real-time tables for the API (GET /api/realtime/minutes) and the demo: per-minute
 * KPIs and revenue by country over a time range, which minutes are closed (every partition's
 * watermark is past the minute's end plus the allowed lateness: the numbers will not change),
 * and the late events of the range.
 */

export interface RealtimeMinute {
  windowStart: string;
  gameId: string;
  purchases: number;
  revenueUsd: number;
  activeUsers: number;
  matches: number;
  events: number;
  /** No on-time event can still change it. */
  closed: boolean;
}

export interface RealtimeCountryMinute {
  windowStart: string;
  gameId: string;
  countryCode: string;
  countryName: string | null;
  purchases: number;
  revenueUsd: number;
}

export interface RealtimeMinutes {
  from: string;
  to: string;
  /**
   * Minutes ending at or before this are closed: every partition's newest event time, less the
   * allowed lateness, is past them (null before any event was aggregated).
   */
  closedBefore: string | null;
  minutes: RealtimeMinute[];
  byCountry: RealtimeCountryMinute[];
  /** Events of the range that arrived too late for their minute (kept in rt_late_events). */
  late: { events: number; revenueUsd: number };
}

export interface RealtimeQuery {
  /** Epoch ms; default `to` − 60 minutes. */
  from?: number;
  /** Epoch ms (exclusive); default the end of the newest aggregated minute. */
  to?: number;
  gameId?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function readRealtimeMinutes(db: PgAdapter, q: RealtimeQuery): Promise<RealtimeMinutes> {
  return db.withSession(async (s) => {
    const exists = (await s.query<{ ok: boolean }>(`SELECT to_regclass('rt_minute_kpis') IS NOT NULL AND to_regclass('rt_offsets') IS NOT NULL AS ok`))
      .rows[0]?.ok;
    const now = Date.now();
    if (!exists) {
      const to = q.to ?? Math.floor(now / WINDOW_MS) * WINDOW_MS + WINDOW_MS;
      return { from: iso(q.from ?? to - 60 * WINDOW_MS), to: iso(to), closedBefore: null, minutes: [], byCountry: [], late: { events: 0, revenueUsd: 0 } };
    }
    let to = q.to;
    if (to === undefined) {
      const latest = (await s.query<{ ms: string | number | null }>(`SELECT ${timestampToMsSql('max(window_start)')} AS ms FROM rt_minute_kpis`)).rows[0]?.ms;
      to = latest === null || latest === undefined ? Math.floor(now / WINDOW_MS) * WINDOW_MS + WINDOW_MS : Number(latest) + WINDOW_MS;
    }
    const from = q.from ?? to - 60 * WINDOW_MS;
    // Closed: past every partition's watermark minus the allowed lateness, for the aggregator group
    // that wrote last (an old group's rows must not hold the flag back forever).
    const closedRow = (
      await s.query<{ ms: string | number | null }>(
        `SELECT ${timestampToMsSql('min(max_event_ts - allowed_lateness_ms * interval \'1 millisecond\')')} AS ms
         FROM rt_offsets
         WHERE group_id = (SELECT group_id FROM rt_offsets ORDER BY updated_at DESC LIMIT 1)`,
      )
    ).rows[0];
    const closedBefore = closedRow?.ms === null || closedRow?.ms === undefined ? null : Number(closedRow.ms);
    const params = [String(from), String(to), q.gameId ?? null];
    const range = `window_start >= ${msToTimestampSql('$1::bigint')} AND window_start < ${msToTimestampSql('$2::bigint')} AND ($3::text IS NULL OR game_id = $3)`;
    const minutes = (
      await s.query<Record<string, string | number>>(
        `SELECT ${timestampToMsSql('window_start')} AS w, game_id, purchases, revenue_usd::text AS revenue, active_users, matches, events
         FROM rt_minute_kpis WHERE ${range} ORDER BY window_start, game_id`,
        params,
      )
    ).rows.map(
      (r): RealtimeMinute => ({
        windowStart: iso(Number(r.w)),
        gameId: String(r.game_id),
        purchases: Number(r.purchases),
        revenueUsd: Number(r.revenue),
        activeUsers: Number(r.active_users),
        matches: Number(r.matches),
        events: Number(r.events),
        closed: closedBefore !== null && Number(r.w) + WINDOW_MS <= closedBefore,
      }),
    );
    const byCountry = (
      await s.query<Record<string, string | number | null>>(
        `SELECT ${timestampToMsSql('window_start')} AS w, game_id, country_code, country_name, purchases, revenue_usd::text AS revenue
         FROM rt_minute_revenue_by_country WHERE ${range} ORDER BY window_start, game_id, country_code`,
        params,
      )
    ).rows.map(
      (r): RealtimeCountryMinute => ({
        windowStart: iso(Number(r.w)),
        gameId: String(r.game_id),
        countryCode: String(r.country_code),
        countryName: r.country_name === null ? null : String(r.country_name),
        purchases: Number(r.purchases),
        revenueUsd: Number(r.revenue),
      }),
    );
    const lateRow = (
      await s.query<{ n: string | number; revenue: string | null }>(
        `SELECT count(*) AS n, sum(revenue_usd)::text AS revenue FROM rt_late_events WHERE ${range}`,
        params,
      )
    ).rows[0];
    return {
      from: iso(from),
      to: iso(to),
      closedBefore: closedBefore === null ? null : iso(closedBefore),
      minutes,
      byCountry,
      late: { events: Number(lateRow?.n ?? 0), revenueUsd: Number(lateRow?.revenue ?? 0) },
    };
  });
}

import type { PgAdapter } from '../connections/adapter.js';

/**
 * The real-time tables in WAREHOUSE (see docs/streaming.md for every column):
 *
 * - `rt_minute_kpis` / `rt_minute_revenue_by_country`: the per-minute results the dashboard reads.
 * - `rt_minute_users`: who was active in each (minute, game); `active_users` is its row count, so
 *   the distinct count is exact and survives restarts.
 * - `rt_minute_events`: event ids already counted (the aggregator's dedup), kept for the state
 *   retention (event time) and then purged.
 * - `rt_late_events`: events that arrived after their minute was closed (beyond the allowed
 *   lateness): kept and counted here instead of being dropped.
 * - `rt_offsets`: per consumer group and partition, the next offset to read and the partition's
 *   newest event time, written in the same transaction as the totals (exactly-once effect).
 * - `rt_installs`: each user's install (register) time, for the quality rule `before_install`.
 */
export const REALTIME_DDL = [
  `CREATE TABLE IF NOT EXISTS rt_minute_kpis (
    window_start timestamptz NOT NULL,
    game_id text NOT NULL,
    purchases bigint NOT NULL DEFAULT 0,
    revenue_usd numeric NOT NULL DEFAULT 0,
    active_users bigint NOT NULL DEFAULT 0,
    matches bigint NOT NULL DEFAULT 0,
    events bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (window_start, game_id)
  )`,
  `CREATE TABLE IF NOT EXISTS rt_minute_revenue_by_country (
    window_start timestamptz NOT NULL,
    game_id text NOT NULL,
    country_code text NOT NULL,
    country_name text,
    purchases bigint NOT NULL DEFAULT 0,
    revenue_usd numeric NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (window_start, game_id, country_code)
  )`,
  `CREATE TABLE IF NOT EXISTS rt_minute_users (
    window_start timestamptz NOT NULL,
    game_id text NOT NULL,
    user_id text NOT NULL,
    PRIMARY KEY (window_start, game_id, user_id)
  )`,
  `CREATE TABLE IF NOT EXISTS rt_minute_events (
    event_id text PRIMARY KEY,
    window_start timestamptz NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS rt_minute_events_window ON rt_minute_events (window_start)`,
  `CREATE TABLE IF NOT EXISTS rt_late_events (
    event_id text PRIMARY KEY,
    event_name text,
    event_ts timestamptz NOT NULL,
    window_start timestamptz NOT NULL,
    game_id text NOT NULL,
    user_id text NOT NULL,
    country_code text NOT NULL,
    revenue_usd numeric NOT NULL DEFAULT 0,
    source_topic text NOT NULL,
    source_partition integer NOT NULL,
    source_offset bigint NOT NULL,
    partition_event_time timestamptz NOT NULL,
    arrived_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX IF NOT EXISTS rt_late_events_window ON rt_late_events (window_start)`,
  `CREATE TABLE IF NOT EXISTS rt_offsets (
    group_id text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    next_offset bigint NOT NULL,
    max_event_ts timestamptz,
    allowed_lateness_ms bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
  )`,
  `CREATE TABLE IF NOT EXISTS rt_installs (
    game_id text NOT NULL,
    user_id text NOT NULL,
    install_ts timestamptz NOT NULL,
    PRIMARY KEY (game_id, user_id)
  )`,
];

/** Creates the real-time tables if absent (under a lock: concurrent instances start together). */
export async function ensureRealtimeTables(db: PgAdapter): Promise<void> {
  await db.withLock('gamepipe:realtime-tables', () =>
    db.transaction(async (s) => {
      for (const sql of REALTIME_DDL) await s.query(sql);
    }),
  );
}

/** `timestamptz` from epoch milliseconds, exactly (no float division). */
export function msToTimestampSql(expr: string): string {
  return `(timestamptz 'epoch' + (${expr}) * interval '1 millisecond')`;
}

/** Epoch milliseconds of a `timestamptz` expression, as bigint. */
export function timestampToMsSql(expr: string): string {
  return `(round(extract(epoch from ${expr}) * 1000)::bigint)`;
}

import { sqlString } from '../engine/duckdb.js';
import { foldSql } from './caseFold.js';
import { funnelPairsSql, installSql } from './filterSql.js';
import { DIMENSIONS, FILTER_NAMES, type FunnelFilters, type FunnelPair, type FunnelQuery } from './params.js';

/**
 * The reference path: the level funnel straight from the silver events, the definitions of
 * docs/metrics.md#level-funnel written out as plainly as possible (count(DISTINCT user_id), an
 * ASOF join for durations). It reads every event in the range, so it is slow on big ranges; the
 * fast path must give the same numbers, and the tests compare them.
 */

/**
 * `lower(platform) IN ('ios', 'android') AND …` for filters and funnel pairs folded by foldFilters
 * and foldPairs (TRUE when there are none).
 */
export function rawFilterSql(filters: FunnelFilters, funnelPairs?: readonly FunnelPair[]): string {
  const parts: string[] = [];
  for (const name of FILTER_NAMES) {
    const values = filters[name];
    if (!values) continue;
    const { column, integer } = DIMENSIONS[name];
    parts.push(integer ? `${column} IN (${values.join(', ')})` : `${foldSql(column)} IN (${values.map(sqlString).join(', ')})`);
  }
  if (funnelPairs?.length) parts.push(funnelPairsSql(funnelPairs, foldSql));
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/**
 * The per-level base numbers (columns as LevelBase in snake_case) over the given silver files of
 * the range; `installs` (installDaysSql: user_id, install_ds) when the question has an install range.
 */
export function rawQuerySql(files: string[], q: FunnelQuery, installs?: string): string {
  const list = `[${files.map(sqlString).join(', ')}]`;
  const cohort = q.install && installs
    ? `user_id IN (SELECT user_id FROM (${installs}) WHERE ${installSql(q.install)})`
    : q.install ? 'FALSE' : 'TRUE';
  return `
WITH level_events AS (
  SELECT CAST(ds AS DATE) AS ds, event_name, event_ts, user_id, level_id,
         platform, country_code, app_version, level_funnel, level_funnel_version, boosters, egp
  FROM read_parquet(${list}, hive_partitioning = true, union_by_name = true)
  WHERE game_id = ${sqlString(q.gameId)}
    AND is_valid AND NOT is_duplicate
    AND event_name IN ('level_start', 'level_complete', 'level_failed')
    AND user_id IS NOT NULL AND level_id IS NOT NULL
    AND CAST(ds AS DATE) BETWEEN DATE ${sqlString(q.from)} AND DATE ${sqlString(q.to)}
),
chosen AS (
  SELECT * FROM level_events WHERE ${rawFilterSql(q.filters, q.funnelPairs)} AND ${cohort}
),
-- a complete or fail lasts from the player's latest level_start of the level at or before it,
-- the same UTC day (whatever that start's dimensions: the duration belongs to the end event)
durations AS (
  SELECT e.level_id, e.event_name, epoch_us(e.event_ts) - epoch_us(s.event_ts) AS duration_us
  FROM (SELECT * FROM chosen WHERE event_name <> 'level_start') e
  ASOF JOIN (SELECT ds, user_id, level_id, event_ts FROM level_events WHERE event_name = 'level_start') s
    ON e.ds = s.ds AND e.user_id = s.user_id AND e.level_id = s.level_id AND e.event_ts >= s.event_ts
),
counts AS (
  SELECT level_id,
         count(*) FILTER (WHERE event_name = 'level_start') AS starts,
         count(*) FILTER (WHERE event_name = 'level_complete') AS completes,
         count(*) FILTER (WHERE event_name = 'level_failed') AS fails,
         count(DISTINCT user_id) FILTER (WHERE event_name = 'level_start') AS started_players,
         count(DISTINCT user_id) FILTER (WHERE event_name = 'level_complete') AS completed_players,
         count(*) FILTER (WHERE event_name <> 'level_start' AND json_type(boosters) = 'OBJECT' AND len(json_keys(boosters)) > 0) AS booster_events,
         count(*) FILTER (WHERE event_name = 'level_failed' AND egp > 0) AS egp_events
  FROM chosen
  GROUP BY level_id
),
timed AS (
  SELECT level_id,
         sum(duration_us) FILTER (WHERE event_name = 'level_complete' AND duration_us > 0) AS completion_duration_us,
         count(*) FILTER (WHERE event_name = 'level_complete' AND duration_us > 0) AS completions_with_duration,
         sum(duration_us) FILTER (WHERE event_name = 'level_failed' AND duration_us > 0) AS fail_duration_us,
         count(*) FILTER (WHERE event_name = 'level_failed' AND duration_us > 0) AS fails_with_duration
  FROM durations
  GROUP BY level_id
)
SELECT c.level_id,
       c.starts::BIGINT AS starts, c.completes::BIGINT AS completes, c.fails::BIGINT AS fails,
       c.started_players::BIGINT AS started_players, c.completed_players::BIGINT AS completed_players,
       c.booster_events::BIGINT AS booster_events, c.egp_events::BIGINT AS egp_events,
       coalesce(t.completion_duration_us, 0)::BIGINT AS completion_duration_us,
       coalesce(t.completions_with_duration, 0)::BIGINT AS completions_with_duration,
       coalesce(t.fail_duration_us, 0)::BIGINT AS fail_duration_us,
       coalesce(t.fails_with_duration, 0)::BIGINT AS fails_with_duration
FROM counts c LEFT JOIN timed t USING (level_id)
ORDER BY c.level_id`;
}

import { foldSql } from './caseFold.js';
import { funnelPairsSql, installSql } from './filterSql.js';
import { HORIZON_DAYS } from './metrics.js';
import { DIMENSIONS, FILTER_NAMES, type FunnelFilters, type FunnelPair, type FunnelQuery } from './params.js';
import { sqlString } from '../sql/quote.js';

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

/** The install-cohort condition on user_id (TRUE without a cohort; FALSE when no install is known). */
function cohortSql(q: FunnelQuery, installs: string | undefined): string {
  if (!q.install) return 'TRUE';
  return installs ? `user_id IN (SELECT user_id FROM (${installs}) WHERE ${installSql(q.install)})` : 'FALSE';
}

/**
 * The per-level base numbers (columns as LevelBase in snake_case) over the given silver files of
 * the range; `installs` (installDaysSql: user_id, install_ds) when the question has an install range.
 */
export function rawQuerySql(files: string[], q: FunnelQuery, installs?: string): string {
  const list = `[${files.map(sqlString).join(', ')}]`;
  const cohort = cohortSql(q, installs);
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

/**
 * Horizon churn per level over every silver day of the game (`allFiles`): a player's first-ever
 * start of a level is their earliest start entry — the earliest day, then the combination in the
 * index's order (NULLs first) — and counts when its day is in [from, min(to, last day with a
 * level event − 7)] and it matches the filters; completedWithinD3/D7: those with a complete of
 * the level (any combination) 0–3 / 0–7 days after that day.
 */
export function rawHorizonSql(allFiles: string[], q: FunnelQuery, installs?: string): string {
  const list = `[${allFiles.map(sqlString).join(', ')}]`;
  const cohort = cohortSql(q, installs);
  return `
WITH lv AS (
  SELECT CAST(ds AS DATE) AS ds, event_name, user_id, level_id,
         platform, country_code, app_version, level_funnel, level_funnel_version
  FROM read_parquet(${list}, hive_partitioning = true, union_by_name = true)
  WHERE game_id = ${sqlString(q.gameId)}
    AND is_valid AND NOT is_duplicate
    AND event_name IN ('level_start', 'level_complete', 'level_failed')
    AND user_id IS NOT NULL AND level_id IS NOT NULL
),
last AS (SELECT max(ds) AS last_ds FROM lv),
firsts AS (
  SELECT * EXCLUDE (rn) FROM (
    SELECT user_id, level_id, ds, platform, country_code, app_version, level_funnel, level_funnel_version,
           row_number() OVER (PARTITION BY user_id, level_id
                              ORDER BY ds, platform NULLS FIRST, country_code NULLS FIRST, app_version NULLS FIRST,
                                       level_funnel NULLS FIRST, level_funnel_version NULLS FIRST) AS rn
    FROM lv WHERE event_name = 'level_start')
  WHERE rn = 1
),
gaps AS (
  SELECT f.user_id, f.level_id, min(c.ds - f.ds) AS gap
  FROM firsts f JOIN lv c ON c.event_name = 'level_complete' AND c.user_id = f.user_id AND c.level_id = f.level_id AND c.ds >= f.ds
  GROUP BY f.user_id, f.level_id
)
SELECT f.level_id,
       count(*)::BIGINT AS horizon_players,
       count(*) FILTER (WHERE g.gap <= 3)::BIGINT AS completed_within_d3,
       count(*) FILTER (WHERE g.gap <= 7)::BIGINT AS completed_within_d7
FROM (SELECT * FROM firsts WHERE ${rawFilterSql(q.filters, q.funnelPairs)} AND ${cohort}) f
LEFT JOIN gaps g USING (user_id, level_id)
CROSS JOIN last
WHERE f.ds BETWEEN DATE ${sqlString(q.from)} AND least(DATE ${sqlString(q.to)}, last.last_ds - ${HORIZON_DAYS})
GROUP BY f.level_id`;
}

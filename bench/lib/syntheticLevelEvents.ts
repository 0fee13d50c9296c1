import fs from 'node:fs';
import path from 'node:path';
import { GamepipeError } from '../../src/core/errors.js';
import { DuckEngine } from '../../src/engine/duckdb.js';
import { sqlString } from '../../src/sql/quote.js';
import { checkDate } from '../../src/core/dates.js';
import { eventsDir, INGESTIONS_DIR, INSTALLS_TABLE, tableDir } from '../../src/lake/zones.js';

/**
 * Silver-shaped level events generated set-based inside DuckDB, for the level-funnel benchmark
 * (36M events in a few minutes on a laptop, where the full generator → ingest → silver path would
 * take much longer) and for tests that need volume. Only the silver columns the funnel reads are
 * written (plus event_id), partitioned like silver: `{lake}/silver/events/ds=YYYY-MM-DD/`, and the
 * players' install times as the install index (`{lake}/bronze/installs`) with a ledger record.
 *
 * The model: players install on a uniform day, keep platform / country / level funnel, and
 * make a heavy-tailed number of level attempts, a few per active day. Each attempt is a
 * level_start followed (96%) by a complete or a fail ~20–300 s later; a fail does not advance
 * the level. Wall levels (every 10th) fail more. App versions ship weekly and players adopt
 * them after a personal lag, and the live funnel's version changes every 120 days, so a player
 * stuck on a level can appear under several dimension combinations. A few events have NULL
 * dimensions, mixed-case funnel names, no start, are invalid or are flagged duplicates.
 * Deterministic: hash-based randomness, the same options give the same rows.
 */
export interface SyntheticOptions {
  /** Lake root; events go to `{lake}/silver/events/ds=…`. */
  lake: string;
  gameId: string;
  users: number;
  days: number;
  start: string;
  seed: number;
  /** Mean level attempts per player (each attempt is ~2 events). Default 36. */
  meanAttempts?: number;
  /** DuckDB threads (default: all cores). */
  threads?: number;
  /** Scratch space for DuckDB spills. */
  tmpDir: string;
  /** Players generated per DuckDB pass (default 150,000). */
  usersPerChunk?: number;
}

export interface SyntheticResult {
  events: number;
  levelEvents: number;
  days: number;
}

export async function writeSyntheticLevelEvents(options: SyntheticOptions): Promise<SyntheticResult> {
  checkDate(options.start, 'start');
  if (!/^[A-Za-z0-9_.:@+-]{1,100}$/.test(options.gameId)) {
    throw new GamepipeError(`invalid game id ${JSON.stringify(options.gameId)}`, { expected: 'letters, digits and _ . : @ + -' });
  }
  const engine = await DuckEngine.open(options.tmpDir, options.threads ? { threads: options.threads } : {});
  const seed = Math.floor(options.seed) >>> 0;
  const mean = options.meanAttempts ?? 36;
  const startEpoch = Date.parse(`${options.start}T00:00:00Z`) / 1000;
  const target = eventsDir(options.lake, 'silver');
  const chunk = options.usersPerChunk ?? 150_000;
  try {
    await engine.run('SET preserve_insertion_order = false');
    // One file per day and chunk: with fewer open files allowed than days, DuckDB rotates many small files.
    await engine.run(`SET partitioned_write_max_open_files = ${options.days + 16}`);
    // u01(a, b): a uniform number in [0, 1) from a hash, so every thread draws the same values.
    await engine.run(`CREATE MACRO u01(a, b) AS (hash(a, b, ${seed}) % 1000000007) / 1000000007.0`);
    // Replace this game's earlier synthetic files only: other games' files in the same days stay.
    const prefix = `synthetic-${options.gameId}-`;
    if (fs.existsSync(target)) {
      for (const dir of fs.readdirSync(target)) {
        const full = path.join(target, dir);
        if (!dir.startsWith('ds=') || !fs.statSync(full).isDirectory()) continue;
        for (const f of fs.readdirSync(full)) if (f.startsWith(prefix)) fs.rmSync(path.join(full, f), { force: true });
      }
    }
    fs.mkdirSync(target, { recursive: true });
    // Install index files and their ledger record: one synthetic ingestion per game.
    const ingestion = `synthetic-${options.gameId}`;
    const installs = tableDir(options.lake, 'bronze', INSTALLS_TABLE);
    fs.mkdirSync(installs, { recursive: true });
    for (const f of fs.readdirSync(installs)) if (f.startsWith(`part-${ingestion}-`)) fs.rmSync(path.join(installs, f), { force: true });
    const ledger = path.join(options.lake, INGESTIONS_DIR);
    fs.mkdirSync(ledger, { recursive: true });
    fs.writeFileSync(path.join(ledger, `${ingestion}.json`), JSON.stringify({ ingestion_id: ingestion, source: 'synthetic', events: 0 }) + '\n');
    let events = 0;
    let levelEvents = 0;
    const days = new Set<string>();
    // Players in chunks: memory and sort sizes stay flat as the user count grows.
    for (let first = 0; first < options.users; first += chunk) {
      const last = Math.min(options.users, first + chunk);
      await engine.run(`CREATE OR REPLACE TABLE users AS
        SELECT u,
               printf('p%07d', u) AS user_id,
               floor(u01(u, 1) * ${options.days})::INT AS install_day,
               CASE WHEN u01(u, 2) < 0.002 THEN NULL WHEN u01(u, 2) < 0.55 THEN 'Android' WHEN u01(u, 2) < 0.9 THEN 'iOS' ELSE 'WebGL' END AS platform,
               CASE WHEN u01(u, 3) < 0.003 THEN NULL
                    ELSE ['US','TR','MX','BR','DE','GB','FR','JP','KR','IN','ID','TH','VN','PH','CA','AU','ES','IT','NL','PL',
                          'SE','AR','CO','SA','AE','EG','TW','HK','SG','MY'][1 + floor(30 * u01(u, 4) * u01(u, 4))::INT] END AS country_code,
               CASE WHEN u01(u, 5) < 0.8 THEN 'live_v1' WHEN u01(u, 5) < 0.9 THEN 'test_easy' ELSE 'test_hard' END AS level_funnel,
               (1 + floor(-ln(1 - u01(u, 6)) * ${mean}))::INT AS attempts,
               (3 + floor(u01(u, 7) * 12))::INT AS per_day,
               CASE WHEN u01(u, 8) < 0.6 THEN 1 WHEN u01(u, 8) < 0.85 THEN 2 ELSE 3 + floor(u01(u, 9) * 5)::INT END AS gap,
               floor(u01(u, 10) * 10)::INT AS update_lag
        FROM range(${first}, ${last}) t(u)`);
      await engine.run(`CREATE OR REPLACE TABLE attempts AS
        WITH a AS (
          SELECT u.*, k, install_day + (k // per_day) * gap AS day, 1 + floor(k * 0.7)::INT AS level_guess
          FROM users u, LATERAL range(u.attempts) r(k)
        ), o AS (
          SELECT *, u01(u * 4096 + k, 11) >= (0.22 + CASE WHEN level_guess % 10 = 0 THEN 0.35 WHEN level_guess % 5 = 0 THEN 0.15 ELSE 0 END) AS won
          FROM a WHERE day < ${options.days}
        )
        SELECT *,
               -- a fail does not advance: the level is 1 + the wins before this attempt
               1 + coalesce(sum(won::INT) OVER (PARTITION BY u ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::INT AS level_id,
               -- the session's start in the day (seconds), then a few minutes per attempt (may cross midnight)
               floor(u01(u * 4096 + day, 12) * 80000)::INT + (k % per_day) * (150 + floor(u01(u * 4096 + k, 13) * 120)::INT) AS second,
               (20 + floor(u01(u * 4096 + k, 14) * 280))::INT AS duration,
               u01(u * 4096 + k, 15) AS r_end,
               u01(u * 4096 + k, 16) AS r_boost,
               u01(u * 4096 + k, 17) AS r_egp,
               u01(u * 4096 + k, 18) AS r_flag
        FROM o`);
      await engine.run(`CREATE OR REPLACE TABLE events AS
        WITH e AS (
          SELECT *, 0 AS part, 'level_start' AS event_name, second AS at_s FROM attempts WHERE r_end >= 0.005
          UNION ALL
          SELECT *, 1 AS part, CASE WHEN won THEN 'level_complete' ELSE 'level_failed' END, second + duration FROM attempts WHERE r_end < 0.96
        )
        SELECT user_id || '-' || k || '-' || part AS event_id,
               event_name,
               to_timestamp(${startEpoch} + day * 86400 + at_s) AS event_ts,
               ${sqlString(options.gameId)} AS game_id,
               user_id,
               platform,
               country_code,
               CASE WHEN r_flag < 0.001 THEN NULL ELSE '1.' || greatest(0, (day - update_lag) // 7) || '.0' END AS app_version,
               CASE WHEN r_flag BETWEEN 0.001 AND 0.002 THEN upper(level_funnel) ELSE level_funnel END AS level_funnel,
               (CASE WHEN level_funnel = 'live_v1' THEN 1 + day // 120 ELSE 1 END)::INT AS level_funnel_version,
               level_id,
               CASE WHEN r_boost < 0.12 THEN '{"hammer":1}'::JSON WHEN r_boost < 0.16 THEN '{"extra_moves":2,"bomb":1}'::JSON ELSE '{}'::JSON END AS boosters,
               (CASE WHEN part = 1 AND NOT won AND r_egp < 0.06 THEN 1 + (r_egp < 0.015)::INT ELSE 0 END)::INT AS egp,
               NOT (r_flag BETWEEN 0.002 AND 0.006) AS is_valid,
               false AS is_duplicate
        FROM e`);
      // Duplicates as silver flags them: a second copy of an event, is_duplicate = true.
      await engine.run(`INSERT INTO events
        SELECT * REPLACE (true AS is_duplicate) FROM events WHERE (hash(event_id, ${seed}) % 1000) < 3`);
      const counts = (await engine.rows<{ events: number; level_events: number }>(
        `SELECT count(*)::BIGINT AS events, count(*) FILTER (WHERE is_valid AND NOT is_duplicate)::BIGINT AS level_events FROM events`,
      ))[0]!;
      events += Number(counts.events);
      levelEvents += Number(counts.level_events);
      for (const r of await engine.rows<{ ds: string }>(`SELECT DISTINCT CAST(event_ts AS DATE)::VARCHAR AS ds FROM events`)) days.add(r.ds);
      // The players' registers as the install index has them (src/ingest/installs.ts): install day
      // at a time of its own; 3% never registered (in no install cohort).
      await engine.run(`COPY (
          SELECT ${sqlString(options.gameId)} AS game_id, user_id,
                 to_timestamp(${startEpoch} + install_day * 86400 + floor(u01(u, 19) * 86400)::INT) AS install_ts,
                 ${sqlString(ingestion)} AS ingestion_id
          FROM users WHERE u01(u, 20) >= 0.03)
        TO ${sqlString(path.join(installs, `part-${ingestion}-${first}.parquet`))} (FORMAT parquet)`);
      await engine.run(`COPY (SELECT *, CAST(event_ts AS DATE) AS ds FROM events)
        TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (ds),
          FILENAME_PATTERN ${sqlString(`${prefix}${first}-{i}`)}, OVERWRITE_OR_IGNORE)`);
    }
    return { events, levelEvents, days: days.size };
  } finally {
    engine.close();
  }
}

import { GamepipeError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { GamepipePaths } from '../core/paths.js';
import { foldSql } from './caseFold.js';
import { funnelPairsSql, installSql } from './filterSql.js';
import { HORIZON_DAYS } from './metrics.js';
import { DIMENSIONS, FILTER_NAMES, filteredBits, INSTALL_BIT, type FilterName, type FunnelPair, type FunnelQuery, type InstallRange } from './params.js';
import { levelFunnelIndexDir } from './paths.js';
import { parquetFiles } from '../lake/zones.js';
import { addDays, formatDay } from '../core/dates.js';
import type { DuckPool } from '../engine/duckdb.js';
import { sqlString } from '../sql/quote.js';

/**
 * The fast path over a game's index (pipelines/funnel/index/level_funnel_index.json: one Parquet
 * snapshot, sorted, rebuilt after each aggregation; the template explains its parts).
 *
 * A new snapshot (noticed with one directory listing per question) is queried at once straight
 * from its Parquet file — DuckDB skips row groups by their min/max, tens of milliseconds — while
 * it is copied in the background into in-memory tables of the service's long-lived DuckDB, which
 * then answer in a few milliseconds. So answers are never stale and a rebuild never stalls the
 * API. The previous snapshot's tables are dropped once the new ones are in.
 *
 * A question on dimensions S reads the smallest rollup keeping S (rollupFor):
 *   counts/months  sums per level over the range: whole months from `months`, edge days from
 *                  `counts` (events, durations, first-ever entries)
 *   links          entries in range whose previous entry is before `from` (from `links` within 31
 *                  days of `from`, and `long_links`)
 *   pairs          players whose dimensions vary: those a filter matches only after their first entry
 * players = firsts + cross (+ pairs), exact: docs/metrics.md#level-funnel.
 */

export interface LoadedIndex {
  gameId: string;
  /** The snapshot's file names: a rebuild writes new ones. */
  key: string;
  /** Where the parts are read: in-memory tables, or the Parquet snapshot itself. */
  storage: 'memory' | 'parquet';
  /** Relations (table names or parenthesized subqueries) of the parts. */
  tables: Record<Part, string>;
  /** Days the index was built from (aggregated days, empty ones included). */
  days: Set<string>;
  /** The last day with a level event (horizon churn needs 7 observed days after a first start); null when none. */
  lastDataDay: string | null;
  /** Stored values of each dimension (NULL left out) with their fold, to resolve case-insensitive filters. */
  values: Record<FilterName, StoredValue[]>;
  /** The dimensions that vary within some pair (OR of the pairs' masks): others need no correction. */
  varyingBits: number;
  /** Milliseconds to open (parquet) or to copy into memory (memory). */
  loadMs: number;
}

/** A stored dimension value and its case fold (foldSql; the value itself for integers). */
export interface StoredValue {
  value: string;
  folded: string;
}

interface GameState {
  current: LoadedIndex;
  /** The in-memory copy of `current` being made. */
  loading?: Promise<LoadedIndex | null>;
}

const DIMS = 'platform, country_code, app_version, level_funnel, level_funnel_version, install_ds';
const SUMS = `starts, completes, fails, started_firsts, completed_firsts, booster_events, egp_events,
              completion_duration_us, completions_with_duration, fail_duration_us, fails_with_duration,
              started_done_d3, started_done_d7`;
const PART_COLUMNS = {
  counts: `set_id, level_id, ds, ${DIMS}, ${SUMS}`,
  months: `set_id, level_id, ds, ${DIMS}, ${SUMS}`,
  links: `set_id, kind, level_id, ds, prev_ds, ${DIMS}, n`,
  long_links: `set_id, kind, level_id, ds, prev_ds, ${DIMS}, n`,
  pairs: `kind, level_id, ds, prev_ds, ${DIMS}, pair_id, mask`,
} as const;
type Part = keyof typeof PART_COLUMNS;
const PARTS = Object.keys(PART_COLUMNS) as Part[];
/** Links at most this many days long are in `links`; longer ones in `long_links` (the template's 31). */
export const SHORT_GAP_DAYS = 31;

export class FunnelIndexCache {
  private readonly games = new Map<string, GameState>();
  private readonly opening = new Map<string, Promise<LoadedIndex>>();
  private generation = 0;

  /** `inMemory: false` (one-shot CLI queries) reads the Parquet snapshot only. */
  constructor(
    private readonly pool: DuckPool,
    private readonly paths: GamepipePaths,
    private readonly inMemory = true,
  ) {}

  /** The game's current index; null when the game was never aggregated. */
  async get(gameId: string): Promise<LoadedIndex | null> {
    const files = parquetFiles(levelFunnelIndexDir(this.paths, gameId));
    const state = this.games.get(gameId);
    // A rebuild swaps the folder by two renames; between them keep the snapshot in hand.
    if (files.length === 0) return state?.current ?? null;
    const key = files.map((f) => f.slice(f.lastIndexOf('/') + 1)).join(',');
    if (state && state.current.key === key) return state.current;
    const pendingKey = `${gameId}\0${key}`;
    let opening = this.opening.get(pendingKey);
    if (!opening) {
      opening = this.open(gameId, files, key).finally(() => this.opening.delete(pendingKey));
      this.opening.set(pendingKey, opening);
    }
    return opening;
  }

  /** The game's index once it is in memory (tests and the benchmark wait for it). */
  async ready(gameId: string): Promise<LoadedIndex | null> {
    const index = await this.get(gameId);
    if (!index) return null;
    const state = this.games.get(gameId);
    if (state?.loading) await state.loading;
    return this.games.get(gameId)?.current ?? index;
  }

  private async open(gameId: string, files: string[], key: string): Promise<LoadedIndex> {
    const started = performance.now();
    const source = `read_parquet([${files.map(sqlString).join(', ')}])`;
    const tables = Object.fromEntries(
      PARTS.map((part) => [part, `(SELECT ${PART_COLUMNS[part]} FROM ${source} WHERE part = '${part}')`]),
    ) as Record<Part, string>;
    let days: { ds: string }[];
    let values: Record<FilterName, StoredValue[]>;
    let varyingBits: number;
    let lastDataDay: string | null;
    try {
      days = await this.pool.rows<{ ds: string }>(`SELECT CAST(ds AS VARCHAR) AS ds FROM ${source} WHERE part = 'days'`);
      values = await this.dimensionValues(tables.months);
      varyingBits = Number((await this.pool.rows<{ bits: number }>(`SELECT coalesce(bit_or(mask), 0) AS bits FROM ${tables.pairs}`))[0]!.bits);
      lastDataDay = (await this.pool.rows<{ d: string | null }>(`SELECT CAST(max(ds) AS VARCHAR) AS d FROM ${tables.counts} WHERE set_id = 0`))[0]!.d;
    } catch (err) {
      throw new GamepipeError(`cannot read the level funnel index of game ${gameId}: ${(err as Error).message}`, {
        file: levelFunnelIndexDir(this.paths, gameId),
        expected: 'a snapshot written by pipelines/funnel/index/level_funnel_index.json (gamepipe funnel aggregate rebuilds it)',
      }, { cause: err });
    }
    const index: LoadedIndex = {
      gameId, key, storage: 'parquet', tables, days: new Set(days.map((d) => d.ds)), lastDataDay, values, varyingBits, loadMs: performance.now() - started,
    };
    const previous = this.games.get(gameId);
    const state: GameState = { current: index };
    this.games.set(gameId, state);
    if (previous?.current.storage === 'memory') await this.drop(previous.current);
    if (this.inMemory) {
      state.loading = this.copyToMemory(index, source).then(
        (copied) => {
          if (this.games.get(gameId) === state) state.current = copied;
          else void this.drop(copied);
          delete state.loading;
          return copied;
        },
        (err: unknown) => {
          // Queries keep reading the Parquet snapshot; the next snapshot tries again.
          logger.warn({ gameId, error: (err as Error).message }, 'level funnel index stays on Parquet: copy into memory failed');
          delete state.loading;
          return null;
        },
      );
    }
    return index;
  }

  private async dimensionValues(counts: string): Promise<Record<FilterName, StoredValue[]>> {
    const values = {} as Record<FilterName, StoredValue[]>;
    for (const name of FILTER_NAMES) {
      const { column, bit, integer } = DIMENSIONS[name];
      const v = `CAST(${column} AS VARCHAR)`;
      values[name] = await this.pool.rows<StoredValue>(
        `SELECT DISTINCT ${v} AS value, ${integer ? v : foldSql(v)} AS folded FROM ${counts} WHERE set_id = ${bit} AND ${column} IS NOT NULL`,
      );
    }
    return values;
  }

  private async copyToMemory(index: LoadedIndex, source: string): Promise<LoadedIndex> {
    const started = performance.now();
    const g = ++this.generation;
    const tables = Object.fromEntries(PARTS.map((part) => [part, `funnel_${part}_${g}`])) as Record<Part, string>;
    const copied: LoadedIndex = { ...index, storage: 'memory', tables, loadMs: 0 };
    try {
      await this.pool.with(async (c) => {
        // The snapshot is sorted (part, set_id, dimensions, day) and the copies keep that order,
        // so the tables' row-group min/max let the scans skip what a question does not need.
        for (const part of PARTS) {
          await c.run(`CREATE TABLE ${tables[part]} AS SELECT ${PART_COLUMNS[part]} FROM ${source} WHERE part = '${part}'`);
        }
      });
    } catch (err) {
      await this.drop(copied);
      throw err;
    }
    copied.loadMs = performance.now() - started;
    return copied;
  }

  private async drop(index: LoadedIndex): Promise<void> {
    if (index.storage !== 'memory') return;
    // Queries already running on these tables finish on their own snapshot (DuckDB MVCC).
    for (const t of Object.values(index.tables)) await this.pool.run(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
  }

  /** Rows per part of the game's current index. */
  async rowCounts(gameId: string): Promise<Record<Part, number> | null> {
    const index = await this.get(gameId);
    if (!index) return null;
    const counts = {} as Record<Part, number>;
    for (const part of PARTS) counts[part] = Number((await this.pool.rows<{ n: number }>(`SELECT count(*) AS n FROM ${index.tables[part]}`))[0]!.n);
    return counts;
  }

  /** Forgets every index (in-memory copies are dropped once their copy finished). */
  async clear(): Promise<void> {
    const states = [...this.games.values()];
    this.games.clear();
    for (const state of states) {
      const copied = await state.loading;
      if (copied) await this.drop(copied);
      await this.drop(state.current);
    }
  }
}

/**
 * Filters (folded by foldFilters) as exact stored values (`ios` → 'iOS'; `live_v1` → 'live_v1',
 * 'LIVE_V1'), so the scans compare plain columns and DuckDB can skip row groups. Null when a
 * filter matches no stored value: the answer is then empty.
 */
export function resolveFilters(index: LoadedIndex, q: FunnelQuery): ResolvedFilters | null {
  const resolved: ResolvedFilters = {};
  for (const name of FILTER_NAMES) {
    const wanted = q.filters[name];
    if (!wanted) continue;
    const set = new Set(wanted);
    const matches = index.values[name].filter((v) => set.has(v.folded)).map((v) => v.value);
    if (matches.length === 0) return null;
    resolved[name] = matches;
  }
  if (q.funnelPairs) {
    // each asked pair → the stored spellings of its funnel name, with its version
    const pairs = q.funnelPairs.flatMap((p) =>
      index.values.levelFunnel.filter((v) => v.folded === p.levelFunnel).map((v) => ({ levelFunnel: v.value, levelFunnelVersion: p.levelFunnelVersion })));
    if (pairs.length === 0) return null;
    resolved.funnelPairs = pairs;
  }
  return resolved;
}

/** Filters as exact stored values (resolveFilters), funnel pairs included. */
export type ResolvedFilters = Partial<Record<FilterName, string[]>> & { funnelPairs?: FunnelPair[] };

function exactFilterSql(resolved: ResolvedFilters, install: InstallRange | undefined): string {
  const parts: string[] = [];
  for (const name of FILTER_NAMES) {
    const values = resolved[name];
    if (!values) continue;
    const { column, integer } = DIMENSIONS[name];
    parts.push(`${column} IN (${(integer ? values : values.map(sqlString)).join(', ')})`);
  }
  if (resolved.funnelPairs) parts.push(funnelPairsSql(resolved.funnelPairs));
  if (install) parts.push(installSql(install));
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/** Rollups in the index (set_id = bits of the dimensions kept); see level_funnel_index.sql.j2. */
export const ROLLUPS = [0, 16, 8, 4, 2, 1, 7, 31, 32, 63] as const;

/** The smallest rollup keeping every filtered dimension (INSTALL_BIT with others: all of them). */
export function rollupFor(bits: number): number {
  if (bits & INSTALL_BIT) return bits === INSTALL_BIT ? INSTALL_BIT : 63;
  if (bits === 0 || (bits & (bits - 1)) === 0) return bits;
  return (bits & ~7) === 0 ? 7 : 31;
}

/**
 * A range as whole months plus the days at its edges: months fully inside [from, to] are read
 * from the monthly rollup, the other days from the daily one.
 */
export function splitRange(from: string, to: string): { days: [string, string][]; months: [string, string] | null } {
  const firstMonth = from.endsWith('-01') ? from : monthStart(addDays(monthEnd(from), 1));
  const lastMonth = monthEnd(to) === to ? monthStart(to) : monthStart(addDays(monthStart(to), -1));
  if (firstMonth > lastMonth) return { days: [[from, to]], months: null };
  const days: [string, string][] = [];
  if (from < firstMonth) days.push([from, addDays(firstMonth, -1)]);
  const afterMonths = addDays(monthEnd(lastMonth), 1);
  if (afterMonths <= to) days.push([afterMonths, to]);
  return { days, months: [firstMonth, lastMonth] };
}

function monthStart(day: string): string {
  return `${day.slice(0, 8)}01`;
}

function monthEnd(day: string): string {
  return formatDay(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)), 0));
}

const date = (d: string) => `DATE ${sqlString(d)}`;

/** The per-level base numbers from an index (columns as in rawQuerySql). */
export function fastQuerySql(index: LoadedIndex, q: FunnelQuery, resolved: ResolvedFilters): string {
  const bits = filteredBits(q.filters, q);
  const setId = rollupFor(bits);
  const where = exactFilterSql(resolved, q.install);
  const from = date(q.from);
  const t = index.tables;
  const { days, months } = splitRange(q.from, q.to);
  const sums = `starts, completes, fails, started_firsts, completed_firsts, booster_events, egp_events,
                completion_duration_us, completions_with_duration, fail_duration_us, fails_with_duration`;
  const scans = (range: { days: [string, string][]; months: [string, string] | null }, columns: string) => [
    ...range.days.map(([a, b]) => `SELECT level_id, ${columns} FROM ${t.counts} WHERE set_id = ${setId} AND ds BETWEEN ${date(a)} AND ${date(b)} AND ${where}`),
    ...(range.months ? [`SELECT level_id, ${columns} FROM ${t.months} WHERE set_id = ${setId} AND ds BETWEEN ${date(range.months[0])} AND ${date(range.months[1])} AND ${where}`] : []),
  ];
  const countScans = scans({ days, months }, sums);
  // Horizon churn: first starts in [from, min(to, last day with data − 7)].
  const horizonEnd = index.lastDataDay === null ? null : addDays(index.lastDataDay, -HORIZON_DAYS) < q.to ? addDays(index.lastDataDay, -HORIZON_DAYS) : q.to;
  const horizonScans = horizonEnd !== null && horizonEnd >= q.from ? scans(splitRange(q.from, horizonEnd), 'started_firsts, started_done_d3, started_done_d7') : [];
  const horizon = horizonScans.length
    ? `SELECT level_id, sum(started_firsts) AS horizon_players, sum(started_done_d3) AS done_d3, sum(started_done_d7) AS done_d7
       FROM (${horizonScans.join('\n    UNION ALL\n    ')}) GROUP BY level_id`
    : `SELECT NULL::INTEGER AS level_id, 0 AS horizon_players, 0 AS done_d3, 0 AS done_d7 WHERE false`;
  // Entries whose previous entry is before `from`: a short link can only end within 31 days of it.
  const crossEnd = addDays(q.from, SHORT_GAP_DAYS - 1) < q.to ? addDays(q.from, SHORT_GAP_DAYS - 1) : q.to;
  const cross = `SELECT kind, level_id, n FROM ${t.links}
                   WHERE set_id = ${setId} AND ds BETWEEN ${from} AND ${date(crossEnd)} AND prev_ds < ${from} AND ${where}
                 UNION ALL
                 SELECT kind, level_id, n FROM ${t.long_links}
                   WHERE set_id = ${setId} AND ds BETWEEN ${from} AND ${date(q.to)} AND prev_ds < ${from} AND ${where}`;
  // Players whose filtered dimensions vary may match F on a later entry but not on their first in
  // range: add (distinct such pairs with an entry in F) − (those entries first in range). Only
  // when some pair varies in a filtered dimension.
  const pairs = bits !== 0 && (index.varyingBits & bits) !== 0
    ? `SELECT level_id,
              count(DISTINCT pair_id) FILTER (WHERE kind = 's') - count(*) FILTER (WHERE kind = 's' AND first_in_range) AS started_extra,
              count(DISTINCT pair_id) FILTER (WHERE kind = 'c') - count(*) FILTER (WHERE kind = 'c' AND first_in_range) AS completed_extra
       FROM (SELECT kind, level_id, pair_id, coalesce(prev_ds < ${from}, true) AS first_in_range
             FROM ${t.pairs} WHERE ds BETWEEN ${from} AND ${date(q.to)} AND (mask & ${bits}) <> 0 AND ${where})
       GROUP BY level_id`
    : `SELECT NULL::INTEGER AS level_id, 0 AS started_extra, 0 AS completed_extra WHERE false`;
  return `
WITH c AS (
  SELECT level_id,
         sum(starts) AS starts, sum(completes) AS completes, sum(fails) AS fails,
         sum(started_firsts) AS started_firsts, sum(completed_firsts) AS completed_firsts,
         sum(booster_events) AS booster_events, sum(egp_events) AS egp_events,
         sum(completion_duration_us) AS completion_duration_us, sum(completions_with_duration) AS completions_with_duration,
         sum(fail_duration_us) AS fail_duration_us, sum(fails_with_duration) AS fails_with_duration
  FROM (${countScans.join('\n    UNION ALL\n    ')})
  GROUP BY level_id
),
x AS (
  SELECT level_id, sum(n) FILTER (WHERE kind = 's') AS started_cross, sum(n) FILTER (WHERE kind = 'c') AS completed_cross
  FROM (${cross})
  GROUP BY level_id
),
p AS (${pairs}),
h AS (${horizon})
SELECT c.level_id,
       c.starts::BIGINT AS starts, c.completes::BIGINT AS completes, c.fails::BIGINT AS fails,
       (c.started_firsts + coalesce(x.started_cross, 0) + coalesce(p.started_extra, 0))::BIGINT AS started_players,
       (c.completed_firsts + coalesce(x.completed_cross, 0) + coalesce(p.completed_extra, 0))::BIGINT AS completed_players,
       c.booster_events::BIGINT AS booster_events, c.egp_events::BIGINT AS egp_events,
       c.completion_duration_us::BIGINT AS completion_duration_us, c.completions_with_duration::BIGINT AS completions_with_duration,
       c.fail_duration_us::BIGINT AS fail_duration_us, c.fails_with_duration::BIGINT AS fails_with_duration,
       coalesce(h.horizon_players, 0)::BIGINT AS horizon_players, coalesce(h.done_d3, 0)::BIGINT AS completed_within_d3,
       coalesce(h.done_d7, 0)::BIGINT AS completed_within_d7
FROM c LEFT JOIN x USING (level_id) LEFT JOIN p USING (level_id) LEFT JOIN h USING (level_id)
ORDER BY c.level_id`;
}

import fs from 'node:fs';
import path from 'node:path';
import { DuckEngine } from '../../../src/engine/duckdb.js';
import { ingestFiles } from '../../../src/ingest/index.js';
import { buildSilverDay } from '../../../src/quality/silver.js';
import type { DeadLetter } from '../../../src/stream/quality.js';
import { BUNDLED_RATES_CSV } from '../../../src/stream/rates.js';
import type { StreamRecord } from '../../../src/stream/transport.js';
import type { Workspace } from '../../helpers/workspace.js';
import { sqlString } from '../../../src/sql/quote.js';

/**
 * The batch side of the stream tests: the very records that went through events-raw are written
 * to an NDJSON file (one line per record, partition by partition in offset order), ingested to
 * bronze and built into silver by the real batch pipeline (ingest + the silver layout); then
 * plain SQL over silver computes what the rt_* tables must hold, converting purchases as the daily
 * pipeline's recharge does (rate of the latest valid_from ≤ the day, 6 decimals).
 */

/** `12.340` → `12.34`, `5.000` → `5`, so PostgreSQL numeric and DuckDB decimal text compare. */
export function decimal(text: string | number | null | undefined): string {
  if (text === null || text === undefined) return '0';
  let s = String(text);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

export interface MinuteKpi {
  purchases: number;
  revenue: string;
  activeUsers: number;
  matches: number;
  events: number;
}

export interface CountryRevenue {
  purchases: number;
  revenue: string;
}

export interface BatchReference {
  /** `${windowMs}|${gameId}` → totals. */
  kpis: Map<string, MinuteKpi>;
  /** `${windowMs}|${gameId}|${countryCode}` → purchases and revenue. */
  byCountry: Map<string, CountryRevenue>;
  /** `${partition}:${offset}` of every record that is invalid in batch (quarantined or silver invalid). */
  invalid: Set<string>;
  /** Valid, non-duplicate events in silver (all minutes). */
  validEvents: number;
  /** Event ids that are valid and not duplicates (for checking late events). */
  validIds: Set<string>;
}

export async function batchReference(
  ws: Workspace,
  raw: StreamRecord[],
  excludeIds: ReadonlySet<string>,
  ratesCsv = BUNDLED_RATES_CSV,
): Promise<BatchReference> {
  const dir = path.join(ws.dir, `batch-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'stream-raw.ndjson');
  const sorted = [...raw].sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  const source = new Map<number, string>();
  const chunks: Buffer[] = [];
  sorted.forEach((r, i) => {
    const value = r.value ?? Buffer.alloc(0);
    if (value.includes(10)) throw new Error('a raw record contains a newline');
    chunks.push(value, Buffer.from('\n'));
    source.set(i + 1, `${r.partition}:${r.offset}`);
  });
  fs.writeFileSync(file, Buffer.concat(chunks));
  await ingestFiles([file], ws.paths, { source: 'kafka' });
  const bronze = path.join(ws.paths.lake, 'bronze', 'events');
  const days = fs
    .readdirSync(bronze)
    .filter((d) => d.startsWith('ds='))
    .map((d) => d.slice(3))
    .sort();
  for (const ds of days) await buildSilverDay(ds, { paths: ws.paths, connections: ws.connections, threads: 1 });

  const engine = await DuckEngine.open(ws.paths.tmp, { threads: 1 });
  try {
    const silverGlob = sqlString(path.join(ws.paths.lake, 'silver', 'events', '**', '*.parquet'));
    await engine.run(`CREATE TEMP TABLE silver AS SELECT * FROM read_parquet(${silverGlob}, hive_partitioning = true)`);
    await engine.run(`CREATE TEMP TABLE excluded (event_id VARCHAR)`);
    if (excludeIds.size) await engine.run(`INSERT INTO excluded VALUES ${[...excludeIds].map((id) => `(${sqlString(id)})`).join(', ')}`);
    await engine.run(
      `CREATE TEMP TABLE rates AS SELECT upper(currency) AS currency, CAST(usd_per_unit AS DECIMAL(18,9)) AS usd_per_unit, valid_from
       FROM read_csv(${sqlString(ratesCsv)}, header = true, columns = {'currency': 'VARCHAR', 'usd_per_unit': 'VARCHAR', 'valid_from': 'DATE'})`,
    );
    await engine.run(
      `CREATE TEMP TABLE counted AS
       WITH c AS (
         SELECT s.*, (epoch_ms(s.event_ts) // 60000) * 60000 AS window_ms,
                DATE '1970-01-01' + CAST(epoch_ms(s.event_ts) // 86400000 AS INTEGER) AS day
         FROM silver s
         WHERE s.is_valid AND NOT s.is_duplicate AND s.event_id NOT IN (SELECT event_id FROM excluded)
       )
       SELECT c.*,
              CASE WHEN c.event_name = 'purchase' THEN
                round(CAST(c.amount AS DECIMAL(38,4)) * (SELECT r.usd_per_unit FROM rates r WHERE r.currency = c.currency AND r.valid_from <= c.day
                                                         ORDER BY r.valid_from DESC LIMIT 1), 6) END AS revenue_usd
       FROM c`,
    );
    const kpiRows = await engine.rows<Record<string, string>>(
      `SELECT CAST(window_ms AS VARCHAR) AS w, game_id AS g,
              CAST(count(*) FILTER (WHERE event_name = 'purchase') AS VARCHAR) AS purchases,
              CAST(coalesce(sum(revenue_usd), 0) AS VARCHAR) AS revenue,
              CAST(count(DISTINCT user_id) AS VARCHAR) AS active_users,
              CAST(count(*) FILTER (WHERE event_name = 'match') AS VARCHAR) AS matches,
              CAST(count(*) AS VARCHAR) AS events
       FROM counted GROUP BY ALL`,
    );
    const kpis = minuteKpis(kpiRows);
    const countryRows = await engine.rows<Record<string, string>>(
      `SELECT CAST(window_ms AS VARCHAR) AS w, game_id AS g, coalesce(country_code, '') AS c,
              CAST(count(*) AS VARCHAR) AS purchases, CAST(coalesce(sum(revenue_usd), 0) AS VARCHAR) AS revenue
       FROM counted WHERE event_name = 'purchase' GROUP BY ALL`,
    );
    const byCountry = countryRevenue(countryRows);

    const invalidLines = await engine.rows<{ n: string }>(
      `SELECT CAST(line_number AS VARCHAR) AS n FROM silver WHERE NOT is_valid AND NOT is_duplicate`,
    );
    const quarantineDir = path.join(ws.paths.lake, 'quarantine', 'events');
    const quarantined = fs.existsSync(quarantineDir)
      ? await engine.rows<{ n: string }>(
          `SELECT CAST(line_number AS VARCHAR) AS n FROM read_parquet(${sqlString(path.join(quarantineDir, '**', '*.parquet'))}, hive_partitioning = true)`,
        )
      : [];
    const invalid = new Set([...invalidLines, ...quarantined].map((r) => source.get(Number(r.n))!));
    const valid = await engine.rows<{ id: string }>(`SELECT event_id AS id FROM silver WHERE is_valid AND NOT is_duplicate`);
    return { kpis, byCountry, invalid, validEvents: valid.length, validIds: new Set(valid.map((r) => r.id)) };
  } finally {
    engine.close();
  }
}

type Row = Record<string, string | number>;

/** Minute KPI rows (w = window start ms, g = game) keyed `w|g`, as the reference and the tables both give them. */
function minuteKpis(rows: Row[]): Map<string, MinuteKpi> {
  return new Map(rows.map((r) => [`${r.w}|${r.g}`, {
    purchases: Number(r.purchases),
    revenue: decimal(r.revenue),
    activeUsers: Number(r.active_users),
    matches: Number(r.matches),
    events: Number(r.events),
  }]));
}

/** Revenue-by-country rows keyed `w|g|c`. */
function countryRevenue(rows: Row[]): Map<string, CountryRevenue> {
  return new Map(rows.map((r) => [`${r.w}|${r.g}|${r.c}`, { purchases: Number(r.purchases), revenue: decimal(r.revenue) }]));
}

export interface RealtimeTables {
  kpis: Map<string, MinuteKpi>;
  byCountry: Map<string, CountryRevenue>;
  lateIds: Set<string>;
}

/** What the aggregator wrote, in the reference's shape. */
export async function readRealtimeTables(ws: Workspace): Promise<RealtimeTables> {
  const kpiRows = await ws.query<Record<string, string | number>>(
    `SELECT (extract(epoch from window_start) * 1000)::bigint::text AS w, game_id AS g, purchases, revenue_usd::text AS revenue,
            active_users, matches, events FROM rt_minute_kpis`,
  );
  const kpis = minuteKpis(kpiRows);
  const countryRows = await ws.query<Record<string, string | number>>(
    `SELECT (extract(epoch from window_start) * 1000)::bigint::text AS w, game_id AS g, country_code AS c, purchases, revenue_usd::text AS revenue
     FROM rt_minute_revenue_by_country`,
  );
  const byCountry = countryRevenue(countryRows);
  const late = await ws.query<{ event_id: string }>(`SELECT event_id FROM rt_late_events`);
  return { kpis, byCountry, lateIds: new Set(late.map((r) => r.event_id)) };
}

/** `${partition}:${offset}` of the raw records the DLQ holds (each once, however often it was re-sent). */
export function deadLetterSources(dlq: StreamRecord[]): { sources: Set<string>; records: number; letters: DeadLetter[] } {
  const letters = dlq.map((r) => JSON.parse(r.value!.toString('utf8')) as DeadLetter);
  return { sources: new Set(letters.map((l) => `${l.source.partition}:${l.source.offset}`)), records: dlq.length, letters };
}

/** Map → sorted entries, for readable diffs in failed assertions. */
export function sortedEntries<V>(m: Map<string, V>): Array<[string, V]> {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

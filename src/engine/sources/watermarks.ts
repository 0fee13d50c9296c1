import type { PgAdapter, PgSession } from '../../connections/adapter.js';
import type { JdbcSource } from '../../layout/schema.js';
import { sqlIdent } from '../../sql/quote.js';

/**
 * Watermarks of incremental jdbc sources, kept in `etl_watermarks` (WAREHOUSE): one row per
 * (source system, source table, job), since two jobs reading the same table advance
 * independently. A watermark is a value of the source's incremental column: the next run
 * reads the rows whose column is ≥ it (minus the source's look-back).
 *
 * The classic hole — a row whose transaction commits after a read has passed its
 * `updated_at` — is closed with the source's transaction horizon: just before reading,
 * the source database reports the start of its oldest open transaction (pg_stat_activity);
 * the new watermark is never later than that. A row invisible to the read belongs to a
 * transaction open at that moment or begun after it, so its `updated_at = now()` (the
 * transaction's start) is ≥ the stored watermark and the next run reads it. Rows at or past
 * the watermark are read again; the outputs' merges are idempotent.
 */
export interface WatermarkKey {
  system: string;
  table: string;
  job: string;
}

export function watermarkKey(source: JdbcSource, job: string): WatermarkKey {
  return {
    system: source.incremental?.system ?? source.connection.toLowerCase(),
    table: source.table ?? source.name,
    job,
  };
}

const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

export async function ensureWatermarkTable(session: PgSession): Promise<void> {
  await session.query(`CREATE TABLE IF NOT EXISTS etl_watermarks (
    source_system text NOT NULL,
    table_name text NOT NULL,
    job text NOT NULL,
    watermark timestamptz NOT NULL,
    rows_extracted bigint NOT NULL,
    full_load boolean NOT NULL,
    last_full_load_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_system, table_name, job)
  )`);
}

/** The stored watermark (ISO-8601 UTC, microseconds), or null before the first run. */
export async function readWatermark(warehouse: PgAdapter, key: WatermarkKey): Promise<string | null> {
  return warehouse.withSession(async (s) => {
    await ensureWatermarkTable(s);
    const res = await s.query<{ watermark: string }>(
      `SELECT to_char(watermark AT TIME ZONE 'UTC', ${ISO_UTC}) AS watermark FROM etl_watermarks
        WHERE source_system = $1 AND table_name = $2 AND job = $3`,
      [key.system, key.table, key.job],
    );
    return res.rows[0]?.watermark ?? null;
  });
}

/**
 * The source database's horizon, read before the extract: the earlier of its clock and the
 * start of its oldest open client transaction. Where the activity view is not readable
 * (no rights, an embedded database), its clock.
 */
export async function readHorizon(source: PgAdapter): Promise<string> {
  return source.withSession(async (s) => {
    try {
      const res = await s.query<{ horizon: string }>(
        `SELECT to_char(least(clock_timestamp(), (
                  SELECT min(xact_start) FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND backend_type = 'client backend' AND xact_start IS NOT NULL
                )) AT TIME ZONE 'UTC', ${ISO_UTC}) AS horizon`,
      );
      return res.rows[0]!.horizon;
    } catch {
      const res = await s.query<{ horizon: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', ${ISO_UTC}) AS horizon`);
      return res.rows[0]!.horizon;
    }
  });
}

/** The query restricted to rows changed since the watermark (minus the look-back). */
export function incrementalQuery(query: string, source: JdbcSource, watermark: string): string {
  const inc = source.incremental!;
  const col = sqlIdent(inc.column);
  const lookBack = inc.lookBack ?? '0 seconds';
  return `SELECT * FROM (\n${query}\n) AS gamepipe_incremental\nWHERE ${col} >= TIMESTAMPTZ '${watermark}' - INTERVAL '${lookBack}'`;
}

export interface WatermarkAdvance {
  key: WatermarkKey;
  watermark: string;
  rows: number;
  full: boolean;
}

/** Stores advanced watermarks (in the output's transaction when the output is in WAREHOUSE). */
export async function saveWatermarks(session: PgSession, advances: WatermarkAdvance[]): Promise<void> {
  if (advances.length === 0) return;
  await ensureWatermarkTable(session);
  for (const a of advances) {
    await session.query(
      `INSERT INTO etl_watermarks AS w (source_system, table_name, job, watermark, rows_extracted, full_load, last_full_load_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 THEN now() END, now())
       ON CONFLICT (source_system, table_name, job) DO UPDATE SET
         watermark = excluded.watermark, rows_extracted = excluded.rows_extracted, full_load = excluded.full_load,
         last_full_load_at = coalesce(excluded.last_full_load_at, w.last_full_load_at), updated_at = now()`,
      [a.key.system, a.key.table, a.key.job, a.watermark, a.rows, a.full],
    );
  }
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Silver-shaped Parquet fixtures: rows with the columns of `{lake}/silver/events/ds=…`
 * (pipelines/daily/silver/silver_events.json), written with DuckDB so the types are the real ones. A test
 * lists only the fields it cares about; the rest are NULL, and rows are valid, non-duplicate
 * events unless they say otherwise.
 */
export const SILVER_COLUMNS: Record<string, string> = {
  event_id: 'VARCHAR',
  event_name: 'VARCHAR',
  event_ts: 'TIMESTAMPTZ',
  game_id: 'VARCHAR',
  user_id: 'VARCHAR',
  session_id: 'VARCHAR',
  server_id: 'VARCHAR',
  platform: 'VARCHAR',
  country_code: 'VARCHAR',
  country_name: 'VARCHAR',
  app_version: 'VARCHAR',
  level_funnel: 'VARCHAR',
  level_funnel_version: 'INTEGER',
  level: 'INTEGER',
  ip: 'VARCHAR',
  session_seconds: 'INTEGER',
  amount: 'DECIMAL(18,4)',
  currency: 'VARCHAR',
  product_id: 'VARCHAR',
  payment_channel: 'VARCHAR',
  transaction_id: 'VARCHAR',
  item_id: 'VARCHAR',
  quantity: 'INTEGER',
  reason_id: 'INTEGER',
  level_id: 'INTEGER',
  boosters: 'JSON',
  egp: 'INTEGER',
  match_id: 'VARCHAR',
  result: 'VARCHAR',
  duration_seconds: 'INTEGER',
  guild_id: 'VARCHAR',
  guild_name: 'VARCHAR',
  offer_id: 'VARCHAR',
  price: 'DECIMAL(18,4)',
  properties: 'JSON',
  is_valid: 'BOOLEAN',
  is_duplicate: 'BOOLEAN',
  validation_errors: 'VARCHAR[]',
  missing_fields: 'VARCHAR[]',
  normalized_fields: 'VARCHAR[]',
  ingestion_id: 'VARCHAR',
  source: 'VARCHAR',
  source_file: 'VARCHAR',
  line_number: 'BIGINT',
  ingested_at: 'TIMESTAMPTZ',
  file_day: 'DATE',
};

export type SilverRow = Partial<Record<keyof typeof SILVER_COLUMNS, string | number | boolean | string[] | null>> & {
  event_name: string;
  /** `HH:MM:SS` on the fixture day, or a full ISO timestamp. */
  event_ts: string;
};

/** Writes one day's silver partition (replacing it): `{lake}/silver/events/ds=<day>/part-0.parquet`. */
export async function writeSilverDay(lake: string, day: string, rows: SilverRow[]): Promise<string> {
  const dir = path.join(lake, 'silver', 'events', `ds=${day}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(os.tmpdir(), `silver-fixture-${randomUUID()}.ndjson`);
  const lines = rows.map((row, i) => {
    const ts = row.event_ts.includes('T') ? row.event_ts : `${day}T${row.event_ts}Z`;
    return JSON.stringify({
      event_id: `${day}-${String(i + 1).padStart(4, '0')}`,
      is_valid: true,
      is_duplicate: false,
      validation_errors: [],
      missing_fields: [],
      normalized_fields: [],
      ingestion_id: 'fixture',
      source: 'fixture',
      source_file: 'fixture.ndjson',
      line_number: i + 1,
      ingested_at: `${day}T23:59:59Z`,
      file_day: day,
      ...row,
      event_ts: ts,
    });
  });
  fs.writeFileSync(tmp, lines.join('\n') + '\n');
  const file = path.join(dir, 'part-0.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    const columns = Object.entries(SILVER_COLUMNS).map(([c, t]) => `'${c}': '${t}'`).join(', ');
    const select = Object.keys(SILVER_COLUMNS).map((c) => `"${c}"`).join(', ');
    await conn.run(
      `COPY (SELECT ${select} FROM read_json('${tmp}', format = 'newline_delimited', columns = {${columns}})) ` +
        `TO '${file}' (FORMAT parquet)`,
    );
  } finally {
    conn.closeSync();
    instance.closeSync();
    fs.rmSync(tmp, { force: true });
  }
  return file;
}

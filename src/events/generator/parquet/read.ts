import { DuckEngine } from '../../../engine/duckdb.js';
import { sqlString } from '../../../sql/quote.js';

/**
 * Events of a generated Parquet file as the objects their NDJSON lines parse to (absent
 * fields omitted, timestamp back to ISO-8601 `…Z`, properties parsed). Loads the whole file:
 * meant for tests and inspection.
 */
export async function readParquetEvents(file: string): Promise<Array<Record<string, unknown>>> {
  const engine = await DuckEngine.open(undefined, { threads: 1 });
  try {
    const rows = await engine.rows(
      `SELECT * REPLACE (strftime("timestamp", '%Y-%m-%dT%H:%M:%S.%gZ') AS "timestamp") FROM read_parquet(${sqlString(file)})`,
    );
    return rows.map((row) => {
      const event: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) {
        if (value === null) continue;
        event[key] = key === 'properties' ? (JSON.parse(value as string) as unknown) : value;
      }
      return event;
    });
  } finally {
    engine.close();
  }
}

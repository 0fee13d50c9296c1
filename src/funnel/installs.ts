import fs from 'node:fs';
import path from 'node:path';
import type { GamepipePaths } from '../core/paths.js';
import { INGESTIONS_DIR, INSTALLS_TABLE, parquetFiles, tableDir } from '../lake/zones.js';
import { sqlString } from '../sql/quote.js';

/**
 * A player's install day for the level funnel's install cohorts: the UTC day of their install
 * time as silver defines it (docs/quality.md, "Install time"): the earliest committed `register`
 * over all of bronze, read from the install index `{lake}/bronze/installs` (src/ingest/installs.ts)
 * as the minimum over the ingestions that have a ledger record. The raw path reads it here; the
 * index job (pipelines/funnel/index) reads the same files as layout sources.
 */
export function installDaysSql(paths: GamepipePaths, gameId: string): string {
  const files = parquetFiles(tableDir(paths.lake, 'bronze', INSTALLS_TABLE));
  const ledger = ledgerFiles(paths);
  if (files.length === 0 || ledger.length === 0) return `SELECT NULL::VARCHAR AS user_id, NULL::DATE AS install_ds WHERE false`;
  return `SELECT user_id, CAST(min(install_ts) AS DATE) AS install_ds
  FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)
  WHERE game_id = ${sqlString(gameId)} AND user_id IS NOT NULL
    AND ingestion_id IN (SELECT ingestion_id FROM read_json([${ledger.map(sqlString).join(', ')}],
                           format = 'newline_delimited', columns = {'ingestion_id': 'VARCHAR'}))
  GROUP BY user_id`;
}

/** The ledger's records (one committed ingestion each; hidden files are records being written). */
function ledgerFiles(paths: GamepipePaths): string[] {
  const dir = path.join(paths.lake, INGESTIONS_DIR);
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort().map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

import fs from 'node:fs';
import path from 'node:path';
import type { DuckEngine } from '../engine/duckdb.js';
import { hiddenSibling } from '../lake/publish.js';
import { INSTALLS_TABLE, eventsDir, tableDir } from '../lake/zones.js';
import { sqlString } from '../sql/quote.js';
import { logger } from '../core/logger.js';
import type { IngestionLedger } from './ledger.js';

/**
 * The users' install index: per ingestion, the earliest `register` of each (game, user) among the
 * events that ingestion brought to bronze, as `{lake}/bronze/installs/part-<ingestion>-0.parquet`
 * (game_id, user_id, install_ts, ingestion_id). It is written with the ingestion's bronze files
 * and becomes visible with them (the ledger record), so it always covers exactly the committed
 * registers of every day. A user's install time is the minimum over the committed ingestions'
 * files (silver_events.sql.j2): the earliest register of the user over all of bronze, whatever
 * order days are ingested, rebuilt or run in — an earlier register ingested later only adds a
 * file, and silver of any day reads the whole index, which is small (one row per user and
 * ingestion that registered), not all of bronze.
 *
 * Registers dated more than a day after their ingestion (future_timestamp) are left out, as
 * are registers without a string gameId or userId; the same conditions silver's rule applies.
 */

/** The index file of one ingestion. */
export function installsFile(lake: string, ingestionId: string): string {
  return path.join(tableDir(lake, 'bronze', INSTALLS_TABLE), `part-${ingestionId}-0.parquet`);
}

/** `COPY` of the earliest register per (game, user) among the bronze files `bronzeGlob` (one ingestion's). */
export function writeInstallsSql(bronzeGlob: string, ingestionId: string, target: string): string {
  return `COPY (
  SELECT game_id, user_id, min(event_ts) AS install_ts, ${sqlString(ingestionId)} AS ingestion_id
  FROM (
    SELECT CASE WHEN json_type(raw, '$.gameId') = 'VARCHAR' THEN (raw ->> '$.gameId') END AS game_id,
           CASE WHEN json_type(raw, '$.userId') = 'VARCHAR' THEN (raw ->> '$.userId') END AS user_id,
           event_ts
    FROM read_parquet(${sqlString(bronzeGlob)})
    WHERE event_name = 'register'
      AND epoch_us(event_ts) <= epoch_us(ingested_at) + 86400000000  -- not future_timestamp
  )
  WHERE game_id IS NOT NULL AND user_id IS NOT NULL
  GROUP BY game_id, user_id
  ORDER BY game_id, user_id
) TO ${sqlString(target)} (FORMAT parquet)`;
}

/**
 * Writes the index file of every committed ingestion with events that has none (a lake ingested
 * before the index existed), from its bronze files. Each file is written aside and renamed in.
 * Returns the ingestion ids indexed.
 */
export async function indexMissingInstalls(engine: DuckEngine, ledger: IngestionLedger): Promise<string[]> {
  const done: string[] = [];
  for (const record of ledger.all()) {
    if (record.events === 0) continue;
    const target = installsFile(ledger.lake, record.ingestion_id);
    if (fs.existsSync(target)) continue;
    const glob = path.join(eventsDir(ledger.lake, 'bronze'), '*', `part-${record.ingestion_id}-*.parquet`);
    // hidden (file sources skip it) and unique (two ingests may index the same old ingestion)
    const tmp = hiddenSibling(target);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    await engine.run(writeInstallsSql(glob, record.ingestion_id, tmp));
    fs.renameSync(tmp, target);
    done.push(record.ingestion_id);
  }
  if (done.length) logger.info({ ingestions: done.length }, 'indexed the registers of earlier ingestions');
  return done;
}

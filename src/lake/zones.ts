import fs from 'node:fs';
import path from 'node:path';

/**
 * The lake's layout (GAMEPIPE_LAKE): one folder per zone, a folder per table inside it, Hive
 * partitions (`ds=YYYY-MM-DD`, `game_id=…`) below. Hidden (`.`) and `_` entries are gamepipe's
 * own (staging, ledger, markers) and are never data.
 *
 *   bronze/events/ds=…         ingested raw events by event day (src/ingest)
 *   bronze/installs/           each ingestion's earliest register per user (src/ingest/installs.ts)
 *   quarantine/events/ds=…     lines that could not be read as events
 *   silver/events/ds=…         typed, normalized, deduplicated, flagged events
 *   gold/<table>/…             derived per-player facts (e.g. level_players)
 *   _ingestions/               the ingestion ledger
 *   .staging/                  work folders of ingestions in progress
 */

export type Zone = 'bronze' | 'quarantine' | 'silver' | 'gold';

/** The ingestion ledger's folder, relative to the lake. */
export const INGESTIONS_DIR = '_ingestions';
/** Work folders of writes in progress, relative to the lake. */
export const STAGING_DIR = '.staging';
/** The event tables' name in bronze, quarantine and silver. */
export const EVENTS_TABLE = 'events';
/** Bronze's per-user install index. */
export const INSTALLS_TABLE = 'installs';

/** `{lake}/{zone}/{table}`. */
export function tableDir(lake: string, zone: Zone, table: string): string {
  return path.join(lake, zone, table);
}

/** `{lake}/{zone}/events`. */
export function eventsDir(lake: string, zone: Exclude<Zone, 'gold'>): string {
  return tableDir(lake, zone, EVENTS_TABLE);
}

/** `{lake}/{zone}/events/ds={ds}`: one event day. */
export function eventsDayDir(lake: string, zone: Exclude<Zone, 'gold'>, ds: string): string {
  return path.join(eventsDir(lake, zone), `ds=${ds}`);
}

/** True for gamepipe's own entries: hidden (`.staging…`) or `_` (ledger, markers). */
export function isInternalEntry(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_');
}

/** Parquet data files directly in a folder (internal entries excluded), sorted; none when absent. */
export function parquetFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.parquet') && !isInternalEntry(f))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** Parquet data files anywhere below a folder (no path part internal), sorted; none when absent. */
export function parquetFilesBelow(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith('.parquet')) continue;
    const full = path.join(e.parentPath, e.name);
    if (path.relative(dir, full).split(path.sep).some(isInternalEntry)) continue;
    files.push(full);
  }
  return files.sort();
}

/** True when a folder holds Parquet data files directly. */
export function hasParquet(dir: string): boolean {
  return parquetFiles(dir).length > 0;
}

/** Parquet files of the silver days that exist (a missing day has no events). */
export function silverFiles(lake: string, days: readonly string[]): string[] {
  return days.flatMap((ds) => parquetFilesBelow(eventsDayDir(lake, 'silver', ds)));
}

/** Days (YYYY-MM-DD) with a partition folder in a zone's events. */
export function eventDays(lake: string, zone: Exclude<Zone, 'gold'>): string[] {
  try {
    return fs
      .readdirSync(eventsDir(lake, zone))
      .map((d) => /^ds=(\d{4}-\d{2}-\d{2})$/.exec(d)?.[1])
      .filter((d): d is string => d !== undefined)
      .sort();
  } catch {
    return [];
  }
}

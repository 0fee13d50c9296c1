import fs from 'node:fs';
import path from 'node:path';
import { GamepipeError } from '../core/errors.js';
import type { GamepipePaths } from '../core/paths.js';

/** Where the level funnel's definitions and data live. */

const ROOT = path.resolve(import.meta.dirname, '../..');
/**
 * The funnel pipeline: silver → gold/level_players → level_metrics_daily per (gameId, logDate),
 * and the per-game query index (index/level_funnel_index.json, keyed by gameId) after them.
 */
export const FUNNEL_PIPELINE_DIR = path.join(ROOT, 'pipelines', 'funnel');
/** The serving table in WAREHOUSE. */
export const LEVEL_METRICS_TABLE = 'level_metrics_daily';

/** Game ids become folder names (`game_id=…`) and SQL literals: no slashes, quotes or spaces. */
const GAME_ID = /^[A-Za-z0-9_.:@+-]{1,100}$/;

export function checkGameId(gameId: string, option = '--game'): string {
  if (!GAME_ID.test(gameId) || gameId.includes('..') || gameId.includes('--')) {
    throw new GamepipeError(`${option}: invalid game id ${JSON.stringify(gameId)}`, {
      expected: 'a game id of letters, digits and _ . : @ + - (1 to 100 characters), e.g. game_1',
    });
  }
  return gameId;
}

export function isGameId(gameId: string): boolean {
  return GAME_ID.test(gameId) && !gameId.includes('..') && !gameId.includes('--');
}

export function silverEventsRoot(paths: GamepipePaths): string {
  return path.join(paths.lake, 'silver', 'events');
}

export function silverDayDir(paths: GamepipePaths, ds: string): string {
  return path.join(silverEventsRoot(paths), `ds=${ds}`);
}

export function levelPlayersDir(paths: GamepipePaths, gameId: string): string {
  return path.join(paths.lake, 'gold', 'level_players', `game_id=${gameId}`);
}

export function levelFunnelIndexDir(paths: GamepipePaths, gameId: string): string {
  return path.join(paths.lake, 'gold', 'level_funnel_index', `game_id=${gameId}`);
}

/** Parquet files directly in a folder, hidden and `_` entries excluded (staging, markers). */
export function parquetFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.parquet') && !f.startsWith('.') && !f.startsWith('_'))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** Parquet files of the silver days in [from, to] that exist (a missing day has no events). */
export function silverFiles(paths: GamepipePaths, days: string[]): string[] {
  const files: string[] = [];
  for (const ds of days) {
    const dir = silverDayDir(paths, ds);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { recursive: true, withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const full = path.join(e.parentPath, e.name);
      const rel = path.relative(dir, full);
      if (!e.isFile() || !e.name.endsWith('.parquet')) continue;
      if (rel.split(path.sep).some((p) => p.startsWith('.') || p.startsWith('_'))) continue;
      files.push(full);
    }
  }
  return files.sort();
}

/** Days (YYYY-MM-DD) with a silver partition folder. */
export function silverDays(paths: GamepipePaths): string[] {
  try {
    return fs
      .readdirSync(silverEventsRoot(paths))
      .map((d) => /^ds=(\d{4}-\d{2}-\d{2})$/.exec(d)?.[1])
      .filter((d): d is string => d !== undefined)
      .sort();
  } catch {
    return [];
  }
}

import path from 'node:path';
import { GamepipeError } from '../core/errors.js';
import type { GamepipePaths } from '../core/paths.js';
import { tableDir } from '../lake/zones.js';

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

export function levelPlayersDir(paths: GamepipePaths, gameId: string): string {
  return path.join(tableDir(paths.lake, 'gold', 'level_players'), `game_id=${gameId}`);
}

export function levelFunnelIndexDir(paths: GamepipePaths, gameId: string): string {
  return path.join(tableDir(paths.lake, 'gold', 'level_funnel_index'), `game_id=${gameId}`);
}

import { GamepipeError } from '../../core/errors.js';
import { parseDay } from '../../core/dates.js';

/** What to generate. Same options ⇒ byte-identical NDJSON. */
export interface GenerateOptions {
  /** Number of games (`game_1` … `game_<games>`; game_1 is the biggest). */
  games: number;
  /** Accounts installed over the period, all games together. */
  users: number;
  days: number;
  /** First day, `YYYY-MM-DD` (UTC). */
  start: string;
  /** 0 … 2^32 − 1. */
  seed: number;
  /** Fraction of events that get one injected defect (0 = clean, at most 0.5). */
  dirtyRate?: number;
  /** Rows per batch yielded by generateEvents (default 32,768). */
  batchSize?: number;
}

export interface NormalizedOptions {
  games: number;
  users: number;
  days: number;
  start: string;
  seed: number;
  dirtyRate: number;
  batchSize: number;
  /** Epoch ms of `start` 00:00Z. */
  startMs: number;
}

export const DEFAULT_BATCH_SIZE = 32_768;

function integerIn(name: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new GamepipeError(`generate: invalid ${name} ${JSON.stringify(value)}`, {
      expected: `an integer from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`,
    });
  }
  return n;
}

/** Check and complete the options; errors name the option and what was expected. */
export function normalizeOptions(options: GenerateOptions): NormalizedOptions {
  const games = integerIn('games', options.games, 1, 1000);
  const users = integerIn('users', options.users, 1, 20_000_000);
  const days = integerIn('days', options.days, 1, 3650);
  const seed = integerIn('seed', options.seed, 0, 0xffffffff);
  const batchSize = integerIn('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE, 1, 10_000_000);
  const startMs = typeof options.start === 'string' ? parseDay(options.start) : undefined;
  if (startMs === undefined) {
    throw new GamepipeError(`generate: invalid start ${JSON.stringify(options.start)}`, {
      expected: 'a date YYYY-MM-DD, e.g. 2024-05-01',
    });
  }
  const rawRate = options.dirtyRate ?? 0;
  const dirtyRate = typeof rawRate === 'string' ? Number(rawRate) : rawRate;
  if (typeof dirtyRate !== 'number' || !Number.isFinite(dirtyRate) || dirtyRate < 0 || dirtyRate > 0.5) {
    throw new GamepipeError(`generate: invalid dirty rate ${JSON.stringify(options.dirtyRate)}`, {
      expected: 'a fraction of events from 0 to 0.5, e.g. 0.02',
    });
  }
  return { games, users, days, start: options.start, seed, dirtyRate, batchSize, startMs };
}

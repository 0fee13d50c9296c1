import os from 'node:os';
import { GamepipeError } from '../core/errors.js';

/**
 * DuckDB memory for concurrent jobs. Each job's DuckDB would otherwise take DuckDB's default
 * (80% of RAM) and several at once could exhaust the machine; instead a budget — the
 * GAMEPIPE_DUCKDB_MEMORY environment variable (e.g. `3GB`), default half of RAM — is split
 * evenly between the jobs that may run at once. Beyond its share a job spills to disk.
 */
export const MEMORY_ENV = 'GAMEPIPE_DUCKDB_MEMORY';

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40 };

/** Bytes of a size such as `512MB`, `3GB`, `2GiB`. */
export function parseSize(text: string, what = MEMORY_ENV): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) {
    throw new GamepipeError(`${what}: invalid size ${JSON.stringify(text)}`, { expected: 'a positive size such as 512MB, 3GB or 2GiB' });
  }
  return Math.floor(Number(m[1]) * unit);
}

/** The memory_limit of one job when `concurrency` jobs may run at once, in MB for DuckDB. */
export function jobMemoryLimit(concurrency: number, env: NodeJS.ProcessEnv = process.env): string {
  const budget = env[MEMORY_ENV] ? parseSize(env[MEMORY_ENV]) : os.totalmem() / 2;
  return `${Math.max(128, Math.floor(budget / Math.max(1, concurrency) / 1e6))}MB`;
}

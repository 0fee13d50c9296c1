import { GamepipeError } from '../core/errors.js';
import { resolvePaths, type GamepipePaths } from '../core/paths.js';
import { ConnectionRegistry } from '../connections/registry.js';
import type { GenerateOptions } from '../events/generator/options.js';
import type { ProgressReporter } from '../pipeline/progress.js';
import { JsonLinesProgress, TtyProgress } from './progress.js';

/** Option parsers and set-up shared by the commands. */

/** A repeatable option's values, in order. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** A numeric option given as a string; blank is NaN, so the callee's range check names it. */
const numberOf = (v: number | string): number => (typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v));

/** The generator options `generate` takes (as strings from the command line, or numbers). */
export interface GenerateArgs {
  games: number | string;
  users: number | string;
  days: number | string;
  start: string;
  seed: number | string;
  /** Dirty rate: fraction of events with an injected defect (0 … 0.5). */
  dirty?: number | string;
}

/** The generator's options from `generate`'s; the generator checks the ranges and names the option. */
export function generateOptionsOf(opts: GenerateArgs): GenerateOptions {
  return {
    games: numberOf(opts.games),
    users: numberOf(opts.users),
    days: numberOf(opts.days),
    start: opts.start,
    seed: numberOf(opts.seed),
    dirtyRate: opts.dirty === undefined ? 0 : numberOf(opts.dirty),
  };
}

/** Parser of a positive integer option; the error names the option. */
export function positiveInt(option: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new GamepipeError(`${option} ${v}`, { expected: 'a positive integer' });
    return n;
  };
}

/**
 * The progress display of a long run: a bar on a terminal, else JSON lines (on stdout, or
 * through `write`).
 */
export function progressReporter(json: boolean | undefined, write?: (line: string) => void): ProgressReporter {
  return process.stderr.isTTY && !json ? new TtyProgress() : new JsonLinesProgress(write);
}

/** Runs `fn` with the paths and the connections of the environment, closing them after. */
export async function withConnections<T>(fn: (ctx: { paths: GamepipePaths; connections: ConnectionRegistry }) => Promise<T>): Promise<T> {
  const paths = resolvePaths();
  const connections = new ConnectionRegistry(paths);
  try {
    return await fn({ paths, connections });
  } finally {
    await connections.closeAll();
  }
}

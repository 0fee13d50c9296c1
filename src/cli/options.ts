import { GamepipeError } from '../core/errors.js';
import { resolvePaths, type GamepipePaths } from '../core/paths.js';
import { ConnectionRegistry } from '../connections/registry.js';
import { JsonLinesProgress, TtyProgress, type ProgressReporter } from '../pipeline/progress.js';

/** Option parsers and set-up shared by the commands. */

/** A repeatable option's values, in order. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

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

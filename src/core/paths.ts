import path from 'node:path';

/**
 * Where gamepipe keeps state: GAMEPIPE_HOME (default ./.gamepipe) holds the embedded
 * PostgreSQL databases and scratch space; GAMEPIPE_LAKE (default $GAMEPIPE_HOME/lake) is the
 * Parquet lake, usable as `{lake}` in layouts.
 */
export interface GamepipePaths {
  home: string;
  lake: string;
  /** Scratch files (CSV hand-offs between DuckDB and PostgreSQL, staging outputs). */
  tmp: string;
  /** One PGlite data directory per connection name without a URL. */
  embeddedPostgres(connectionName: string): string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): GamepipePaths {
  const home = path.resolve(env.GAMEPIPE_HOME ?? '.gamepipe');
  const lake = path.resolve(env.GAMEPIPE_LAKE ?? path.join(home, 'lake'));
  return {
    home,
    lake,
    tmp: path.join(home, 'tmp'),
    embeddedPostgres: (name) => path.join(home, 'pglite', name.toLowerCase()),
  };
}

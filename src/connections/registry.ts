import { loadProjectConfig, type ProjectConfig } from '../config/projectConfig.js';
import { GamepipeError } from '../core/errors.js';
import type { GamepipePaths } from '../core/paths.js';
import type { PgAdapter } from './adapter.js';
import { PgliteAdapter } from './pglite.js';
import { PostgresServerAdapter } from './postgresServer.js';
import { hidePassword } from './url.js';

/** The serving tables' connection; always known, embedded unless given a URL. */
export const WAREHOUSE = 'WAREHOUSE';

/**
 * Connections that fall back to an embedded database when no URL is given: the serving tables,
 * and the two operational databases the shipped warehouse pipeline reads (docs/warehouse.md),
 * so its demo and tests run with nothing configured.
 */
export const EMBEDDED_BY_DEFAULT: readonly string[] = [WAREHOUSE, 'USER_SERVICE', 'GAME_SERVICE'];

/** `GAMEPIPE_CONN_WAREHOUSE` for the connection named WAREHOUSE (like Airflow's AIRFLOW_CONN_<ID>). */
export function connectionEnvVar(name: string): string {
  return `GAMEPIPE_CONN_${name.toUpperCase()}`;
}

export interface ConnectionInfo {
  name: string;
  kind: 'server' | 'embedded';
  /** URL with the password hidden, or the embedded data directory. */
  location: string;
}

/**
 * Resolves connection names: GAMEPIPE_CONN_<NAME> (a postgres:// URL, or `embedded`), then
 * gamepipe.config.json, then WAREHOUSE's built-in embedded default. A name declared without
 * a URL is the embedded PGlite database stored under $GAMEPIPE_HOME/pglite/<name>; a name
 * declared nowhere is an error. Adapters open once per process and close together.
 */
export class ConnectionRegistry {
  private readonly open = new Map<string, PgAdapter>();
  private readonly config: Pick<ProjectConfig, 'connections'>;

  constructor(
    private readonly paths: GamepipePaths,
    private readonly env: NodeJS.ProcessEnv = process.env,
    config?: Pick<ProjectConfig, 'connections'>,
  ) {
    this.config = config ?? loadProjectConfig(env);
  }

  /** The URL for a name, `null` for embedded, `undefined` when the name is declared nowhere. */
  private urlFor(key: string): string | null | undefined {
    const fromEnv = this.env[connectionEnvVar(key)];
    if (fromEnv !== undefined) return fromEnv === '' || fromEnv === 'embedded' ? null : fromEnv;
    const declared = Object.entries(this.config.connections).find(([name]) => name.toUpperCase() === key);
    if (declared) return declared[1].url ?? null;
    return EMBEDDED_BY_DEFAULT.includes(key) ? null : undefined;
  }

  describe(name: string): ConnectionInfo {
    const key = name.toUpperCase();
    const url = this.urlFor(key);
    if (url === undefined) throw this.missing(key);
    return url === null
      ? { name: key, kind: 'embedded', location: this.paths.embeddedPostgres(key) }
      : { name: key, kind: 'server', location: hidePassword(url) };
  }

  private missing(key: string): GamepipeError {
    return new GamepipeError(`connection ${key} is not configured`, {
      expected: `${connectionEnvVar(key)}=postgres://user:password@host:5432/db (or =embedded), or "${key}" under "connections" in gamepipe.config.json`,
    });
  }

  get(name: string): PgAdapter {
    const key = name.toUpperCase();
    const existing = this.open.get(key);
    if (existing) return existing;
    const url = this.urlFor(key);
    if (url === undefined) throw this.missing(key);
    let adapter: PgAdapter;
    if (url === null) {
      adapter = new PgliteAdapter(key, this.paths.embeddedPostgres(key));
    } else {
      if (!/^postgres(ql)?:\/\//.test(url)) {
        throw new GamepipeError(`connection ${key}: "${hidePassword(url)}" is not a PostgreSQL URL`, {
          expected: 'postgres://user:password@host:port/database',
        });
      }
      adapter = new PostgresServerAdapter(key, url);
    }
    this.open.set(key, adapter);
    return adapter;
  }

  async closeAll(): Promise<void> {
    const adapters = [...this.open.values()];
    this.open.clear();
    await Promise.all(adapters.map((a) => a.close()));
  }
}

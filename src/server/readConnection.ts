import type { PgAdapter } from '../connections/adapter.js';
import { WAREHOUSE, type ConnectionRegistry } from '../connections/registry.js';

/** The connection name of WAREHOUSE's read-only role (docs/api.md shows how to create it). */
export const WAREHOUSE_READONLY = 'WAREHOUSE_READONLY';

/**
 * Where the API's read endpoints read the serving tables: WAREHOUSE through a read-only
 * PostgreSQL role when GAMEPIPE_CONN_WAREHOUSE_READONLY is set, else WAREHOUSE itself.
 * (Tokens, sessions and started runs always use WAREHOUSE: they write.)
 */
export function readConnection(connections: ConnectionRegistry, env: NodeJS.ProcessEnv = process.env): PgAdapter {
  return env.GAMEPIPE_CONN_WAREHOUSE_READONLY ? connections.get(WAREHOUSE_READONLY) : connections.get(WAREHOUSE);
}

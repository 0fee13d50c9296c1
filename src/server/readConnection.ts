import type { PgAdapter } from '../connections/adapter.js';
import { WAREHOUSE, type ConnectionRegistry } from '../connections/registry.js';

/** The connection name of WAREHOUSE's read-only role (docs/api.md shows how to create it). */
export const WAREHOUSE_READONLY = 'WAREHOUSE_READONLY';

/**
 * Where the API's read endpoints read the serving tables: WAREHOUSE through a read-only
 * PostgreSQL role when the connection WAREHOUSE_READONLY is configured (GAMEPIPE_CONN_WAREHOUSE_READONLY
 * or gamepipe.config.json), else WAREHOUSE itself.
 * (Tokens, sessions and started runs always use WAREHOUSE: they write.)
 */
export function readConnection(connections: ConnectionRegistry): PgAdapter {
  return connections.get(isConfigured(connections, WAREHOUSE_READONLY) ? WAREHOUSE_READONLY : WAREHOUSE);
}

function isConfigured(connections: ConnectionRegistry, name: string): boolean {
  try {
    connections.describe(name);
    return true;
  } catch {
    return false;
  }
}

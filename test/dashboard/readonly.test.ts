import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { TokenStore } from '../../src/auth/tokens.js';
import { ConnectionRegistry } from '../../src/connections/registry.js';
import { buildApp } from '../../src/server/app.js';
import { readConnection } from '../../src/server/readConnection.js';
import { createWorkspace, serverUrl, type Workspace } from '../helpers/workspace.js';

/**
 * With GAMEPIPE_CONN_WAREHOUSE_READONLY set, the read endpoints read through it (here: a
 * session that PostgreSQL keeps read-only, on a schema of its own, so the answer shows which
 * connection it came from) while tokens keep using WAREHOUSE. Needs a PostgreSQL server.
 */
describe.skipIf(!serverUrl)('read-only WAREHOUSE connection (postgres server)', () => {
  let ws: Workspace;
  let connections: ConnectionRegistry;
  const readSchema = `ro_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    const kpi = (schema: string, dau: number) =>
      `CREATE TABLE ${schema}.kpi_daily (ds date, game_id text, dau bigint, nru bigint, pu bigint, npu bigint, nnpu bigint, revenue_usd numeric, arpu numeric, arppu numeric);
       INSERT INTO ${schema}.kpi_daily VALUES ('2024-12-01', 'g1', ${dau}, 1, 0, 0, 0, 0, 0, NULL)`;
    const writerSchema = /search_path=(\w+)/.exec(decodeURIComponent(ws.env.GAMEPIPE_CONN_WAREHOUSE!))![1]!;
    await admin(`CREATE SCHEMA ${readSchema}; ${kpi(readSchema, 99)}; ${kpi(writerSchema, 10)}`);
    const u = new URL(serverUrl!);
    u.searchParams.set('options', `-c search_path=${readSchema} -c default_transaction_read_only=on`);
    connections = new ConnectionRegistry(ws.paths, { ...ws.env, GAMEPIPE_CONN_WAREHOUSE_READONLY: u.toString() }, { connections: {} });
  });
  afterAll(async () => {
    await connections?.closeAll();
    await ws?.close();
    await admin(`DROP SCHEMA IF EXISTS ${readSchema} CASCADE`);
  });

  it('reads go through the read-only connection, tokens through WAREHOUSE', async () => {
    const token = (await new TokenStore(connections.get('WAREHOUSE')).create({ name: 'reader', role: 'read' })).token;
    const app = await buildApp({ connections });
    try {
      const res = await app.inject({ url: '/api/games/g1/overview?from=2024-12-01&to=2024-12-01', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      expect(res.json().days.map((d: { dau: number }) => d.dau)).toEqual([99]);
    } finally {
      await app.close();
    }
    await expect(readConnection(connections).withSession((s) => s.query('CREATE TABLE written (a int)'))).rejects.toThrow(/read-only transaction/);
  });
});

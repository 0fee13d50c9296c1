/**
 * `npm run bench:api` — the dashboard API under concurrent load: p50 / p99 latency and
 * requests per second of the Overview and Level-funnel endpoints (autocannon, loopback only,
 * a fixed number of connections for a fixed time), on a generated demo dataset (the daily
 * pipeline's serving tables and the level funnel's pre-aggregates), through the real server
 * (auth hook with a read token, rate limit raised out of the way, helmet, schema validation).
 *
 * PostgreSQL (WAREHOUSE) is GAMEPIPE_BENCH_DATABASE_URL, else GAMEPIPE_TEST_DATABASE_URL (a
 * schema of its own, dropped at the end), else the embedded PGlite. Figures are printed,
 * never asserted; the machine's load average is printed beside them.
 *
 *   npm run bench:api -- [--players 3000] [--days 7] [--connections 10] [--seconds 10]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { TokenStore } from '../src/auth/tokens.js';
import { ConnectionRegistry } from '../src/connections/registry.js';
import { resolvePaths } from '../src/core/paths.js';
import { buildDemoData } from '../src/demo/dataset.js';
import { buildApp } from '../src/server/app.js';
import { parseCount, table } from './lib/format.js';
import { adminQuery, hidePassword, progress, withSearchPath } from './lib/postgres.js';

const USAGE = `usage: npm run bench:api -- [--players N (3000)] [--days N (7)] [--connections N (10)] [--seconds N (10)]`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { players: { type: 'string' }, days: { type: 'string' }, connections: { type: 'string' }, seconds: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) return void console.log(USAGE);
  const players = values.players ? parseCount(values.players, '--players') : 3000;
  const days = values.days ? parseCount(values.days, '--days') : 7;
  const connectionsN = values.connections ? parseCount(values.connections, '--connections') : 10;
  const seconds = values.seconds ? parseCount(values.seconds, '--seconds') : 10;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-bench-api-'));
  const env: NodeJS.ProcessEnv = { GAMEPIPE_HOME: path.join(dir, 'home') };
  const serverUrl = process.env.GAMEPIPE_BENCH_DATABASE_URL ?? process.env.GAMEPIPE_TEST_DATABASE_URL;
  const schema = `bench_api_${process.pid}`;
  if (serverUrl) {
    await adminQuery(serverUrl, `CREATE SCHEMA ${schema}`);
    env.GAMEPIPE_CONN_WAREHOUSE = withSearchPath(serverUrl, schema);
  } else {
    env.GAMEPIPE_CONN_WAREHOUSE = 'embedded';
  }
  const paths = resolvePaths(env);
  const connections = new ConnectionRegistry(paths, env, { connections: {} });
  try {
    progress(`WAREHOUSE: ${serverUrl ? `${hidePassword(serverUrl)} (schema ${schema})` : 'embedded PGlite'}`);
    progress(`demo data: ${players} players, ${days} days (generate, ingest, daily pipeline, level funnel)…`);
    const started = Date.now();
    const range = await buildDemoData({ paths, connections }, { players, days });
    progress(`demo data ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const token = (await new TokenStore(connections.get('WAREHOUSE')).create({ name: 'bench', role: 'read' })).token;
    const app = await buildApp({ connections, paths, rateLimitPerMinute: 10_000_000 });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const from = range[0]!;
    const to = range.at(-1)!;
    const targets = [
      ['Overview', `/api/games/game_1/overview?from=${from}&to=${to}`],
      ['Level funnel (fast)', `/api/games/game_1/level-funnel?from=${from}&to=${to}`],
      ['Level funnel (fast, 2 filters)', `/api/games/game_1/level-funnel?from=${from}&to=${to}&platform=ios,android&country=US,TR`],
    ] as const;
    const rows: string[][] = [];
    for (const [name, url] of targets) {
      const check = await fetch(base + url, { headers: { authorization: `Bearer ${token}` } });
      if (!check.ok) throw new Error(`${name}: ${check.status} ${await check.text()}`);
      await autocannon({ url: base + url, connections: connectionsN, duration: 2, headers: { authorization: `Bearer ${token}` } }); // warm-up
      const load = os.loadavg()[0]!.toFixed(2);
      const r = await autocannon({ url: base + url, connections: connectionsN, duration: seconds, headers: { authorization: `Bearer ${token}` } });
      const non2xx = r.non2xx + r.errors + r.timeouts;
      rows.push([name, String(r.latency.p50), String(r.latency.p99), r.requests.average.toFixed(0), String(r.requests.total), String(non2xx), load]);
      progress(`${name}: done`);
    }
    await app.close();
    console.log(`\nbench:api — ${players} players × ${days} days (${from} … ${to}), ${connectionsN} connections × ${seconds} s per endpoint, loopback, ${os.cpus().length} cores`);
    console.log(table(['endpoint', 'p50 ms', 'p99 ms', 'req/s', 'requests', 'non-2xx', 'load avg (1 min) before'], rows));
  } finally {
    await connections.closeAll();
    if (serverUrl) await adminQuery(serverUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:api: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});

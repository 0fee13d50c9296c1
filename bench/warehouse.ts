/**
 * `npm run bench:warehouse` — the warehouse pipeline on a real PostgreSQL:
 *
 *   1. Base data generated set-based in PostgreSQL (generate_series, no row-by-row inserts):
 *      1M users, 10M transactions, 1M games (5 players each, 2 actions each), 2M access events.
 *   2. Full load (`gamepipe warehouse sync --full`): time and rows/s over every row loaded.
 *   3. 10,000 changed rows over that base (2,000 user updates of tracked columns, 5,000 new
 *      transactions, 1,000 games finished with their players, 2,000 access events), then one
 *      incremental sync: time and rows/s over the changed rows.
 *
 * PostgreSQL is GAMEPIPE_BENCH_DATABASE_URL, else GAMEPIPE_TEST_DATABASE_URL; the three
 * connections share one throwaway schema, dropped at the end. Figures are printed, never asserted.
 *
 *   npm run bench:warehouse -- [--users 1000000] [--transactions 10000000] [--games 1000000] [--changes 10000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { ConnectionRegistry } from '../src/connections/registry.js';
import { resolvePaths } from '../src/core/paths.js';
import { GAME_SERVICE, initSources, USER_SERVICE } from '../src/warehouse/sourceSchema.js';
import { syncWarehouse } from '../src/warehouse/sync.js';
import { int, parseCount, secs, table, timed } from './lib/format.js';
import { adminQuery, hidePassword, progress, withSearchPath } from './lib/postgres.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000000' },
    transactions: { type: 'string', default: '10000000' },
    games: { type: 'string', default: '1000000' },
    changes: { type: 'string', default: '10000' },
  },
});
const users = parseCount(values.users!, '--users');
const transactions = parseCount(values.transactions!, '--transactions');
const games = parseCount(values.games!, '--games');
const changes = parseCount(values.changes!, '--changes');
const accessEvents = users * 2;

const url = process.env.GAMEPIPE_BENCH_DATABASE_URL ?? process.env.GAMEPIPE_TEST_DATABASE_URL;
if (!url) {
  process.stderr.write('bench:warehouse needs a PostgreSQL server: set GAMEPIPE_BENCH_DATABASE_URL or GAMEPIPE_TEST_DATABASE_URL\n');
  process.exit(2);
}
const schema = `bench_wh_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-bench-warehouse-'));
const env: NodeJS.ProcessEnv = { ...process.env, GAMEPIPE_HOME: home };
for (const name of ['WAREHOUSE', USER_SERVICE, GAME_SERVICE]) env[`GAMEPIPE_CONN_${name}`] = withSearchPath(url, schema);
const paths = resolvePaths(env);
const connections = new ConnectionRegistry(paths, env, { connections: {} });
const ctx = { paths, connections };

/** The base data, set-based: every table one INSERT … SELECT FROM generate_series. */
const BASE = [
  `INSERT INTO users SELECT g, 'user' || g, CASE WHEN g % 10 <> 0 THEN 'user' || g || '@example.com' END,
     (ARRAY['US','DE','FR','BR','JP','GB','IN','KR'])[1 + g % 8], CASE WHEN g % 97 = 0 THEN 'banned' ELSE 'active' END, g % 5,
     now() - interval '400 days' + (g % 300) * interval '1 day', now() - interval '30 days' + (g % 20) * interval '1 day'
   FROM generate_series(1, ${users}) g`,
  `INSERT INTO transactions SELECT g, 1 + (g * 7919) % ${users}, ((g % 2000) + 99) / 100.0, CASE WHEN g % 3 = 0 THEN 'USD' ELSE 'gems' END,
     (ARRAY['purchase','reward','spend'])[1 + g % 3], now() - interval '10 days' + (g % 864000) * interval '1 second'
   FROM generate_series(1, ${transactions}) g`,
  `INSERT INTO access_events SELECT g, 1 + (g * 104729) % ${users}, CASE WHEN g % 2 = 0 THEN 'login' ELSE 'logout' END, '10.0.' || (g % 256) || '.1',
     now() - interval '10 days' + (g % 864000) * interval '1 second'
   FROM generate_series(1, ${accessEvents}) g`,
  `INSERT INTO lobbies SELECT g, 'Lobby ' || g, 8, g % 2 = 0, now() - interval '400 days', now() - interval '400 days' FROM generate_series(1, 200) g`,
  `INSERT INTO games SELECT g, 1 + g % 200, CASE WHEN g % 20 = 0 THEN 'running' WHEN g % 20 = 1 THEN 'aborted' ELSE 'finished' END,
     CASE WHEN g % 20 > 1 THEN (ARRAY['mafia','town'])[1 + g % 2] END,
     now() - interval '10 days' + (g % 86400) * interval '10 seconds',
     CASE WHEN g % 20 <> 0 THEN now() - interval '10 days' + (g % 86400) * interval '10 seconds' + (600 + g % 1200) * interval '1 second' END,
     now() - interval '10 days' + (g % 86400) * interval '10 seconds' + interval '1 hour'
   FROM generate_series(1, ${games}) g`,
  `INSERT INTO game_players SELECT g, 1 + ((g * 5 + s) * 7919) % ${users}, CASE WHEN s = 0 THEN 2 WHEN s = 1 THEN 3 WHEN s = 2 THEN 4 ELSE 1 END,
     now() - interval '10 days' + (g % 86400) * interval '10 seconds',
     CASE WHEN g % 20 <> 0 THEN now() - interval '10 days' + (g % 86400) * interval '10 seconds' + interval '10 minutes' END,
     CASE WHEN g % 20 > 1 THEN (g + s) % 2 = 0 END
   FROM generate_series(1, ${games}) g, generate_series(0, 4) s ON CONFLICT DO NOTHING`,
  `INSERT INTO game_actions SELECT g, 1 + g % ${games}, 1 + (g * 31) % ${users}, 1 + (g * 37) % ${users}, (ARRAY['vote','kill','heal','investigate'])[1 + g % 4], 1 + g % 5,
     now() - interval '10 days' + (g % 864000) * interval '1 second'
   FROM generate_series(1, ${games * 2}) g`,
];

async function sourceQuery(sql: string): Promise<void> {
  await connections.get(USER_SERVICE).withSession((s) => s.query(sql));
}

async function main(): Promise<void> {
  progress(`PostgreSQL ${hidePassword(url!)}, schema ${schema}`);
  await adminQuery(url!, `CREATE SCHEMA ${schema}`);
  try {
    await initSources(connections.get(USER_SERVICE), connections.get(GAME_SERVICE));
    const gen = await timed(async () => {
      for (const sql of BASE) await sourceQuery(sql);
      await sourceQuery('ANALYZE');
    });
    const counts = await connections.get(USER_SERVICE).withSession(async (s) => (await s.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM transactions) AS transactions, (SELECT count(*) FROM access_events) AS access_events,
              (SELECT count(*) FROM games) AS games, (SELECT count(*) FROM game_players) AS game_players, (SELECT count(*) FROM game_actions) AS game_actions`)).rows[0]!);
    const baseRows = Object.values(counts).reduce((a, b) => a + Number(b), 0);
    progress(`base data generated in ${secs(gen.seconds)}: ${Object.entries(counts).map(([k, v]) => `${k} ${int(Number(v))}`).join(', ')}`);

    progress('full load …');
    const full = await timed(() => syncWarehouse(ctx, { full: true }));
    if (!full.value.ok) throw new Error(`full load failed: ${full.value.tasks.map((t) => t.error).filter(Boolean).join('\n')}`);
    const fullRows = full.value.tasks.reduce((sum, t) => sum + (t.result?.rowsWritten ?? 0), 0);

    // 10k changed rows: tracked user updates, new transactions, finished games (+ their players' rows), access events.
    const share = (f: number) => Math.round(changes * f);
    const finished = share(0.1);
    await sourceQuery(`UPDATE users SET country_code = 'PL', vip_level = vip_level + 1, updated_at = now() WHERE id IN (SELECT 1 + (g * 4999) % ${users} FROM generate_series(1, ${share(0.2)}) g)`);
    await sourceQuery(`INSERT INTO transactions SELECT ${transactions} + g, 1 + (g * 13) % ${users}, 9.99, 'USD', 'purchase', now() FROM generate_series(1, ${share(0.5)}) g`);
    await sourceQuery(`INSERT INTO access_events SELECT ${accessEvents} + g, 1 + (g * 17) % ${users}, 'login', '10.1.1.1', now() FROM generate_series(1, ${share(0.2)}) g`);
    await sourceQuery(`UPDATE games SET status = 'finished', winner_team = 'town', ended_at = now(), updated_at = now() WHERE id IN (SELECT id FROM games WHERE status = 'running' ORDER BY id LIMIT ${finished})`);
    progress(`${int(changes)} rows changed; incremental sync …`);
    const inc = await timed(() => syncWarehouse(ctx, {}));
    if (!inc.value.ok) throw new Error(`incremental sync failed: ${inc.value.tasks.map((t) => t.error).filter(Boolean).join('\n')}`);
    const incRead = inc.value.tasks.reduce((sum, t) => sum + (t.result?.rowsRead ?? 0), 0);

    const load = execSync('uptime').toString().trim();
    console.log(`\nbench:warehouse — ${int(users)} users, ${int(transactions)} transactions, ${int(games)} games (${int(baseRows)} source rows), ${os.cpus().length} cores`);
    console.log(table(['step', 'rows', 'time', 'rows/s'], [
      ['generate base (set-based SQL)', int(baseRows), secs(gen.seconds), int(baseRows / gen.seconds)],
      ['full load (sync --full)', int(fullRows), secs(full.seconds), int(fullRows / full.seconds)],
      [`incremental sync, ${int(changes)} changed rows`, `${int(changes)} (${int(incRead)} read)`, secs(inc.seconds), int(changes / inc.seconds)],
    ]));
    console.log('\nper job (incremental):');
    for (const t of inc.value.tasks) console.log(`  ${t.job.padEnd(22)} read ${int(t.result?.rowsRead ?? 0).padStart(7)}  wrote ${int(t.result?.rowsWritten ?? 0).padStart(7)}  ${secs((t.result?.durationMs ?? 0) / 1000)}`);
    console.log(`\nmachine load: ${load}`);
  } finally {
    await connections.closeAll();
    await adminQuery(url!, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    fs.rmSync(home, { recursive: true, force: true });
  }
}

await main();

/**
 * `npm run bench:engine` — throughput of gamepipe's engine paths, in rows per second:
 *
 *   1. Parquet → DuckDB group-by → Parquet, as a real layout run with compileLayout + runJob.
 *   2. Loading rows into PostgreSQL: gamepipe's bulk path (COPY, through writeJdbcOutput and
 *      through the adapter's copyInCsv alone) against batched multi-row INSERTs.
 *   3. A PostgreSQL query loaded into DuckDB as a jdbc source (loadJdbcSource).
 *
 * PostgreSQL is GAMEPIPE_BENCH_DATABASE_URL, else GAMEPIPE_TEST_DATABASE_URL (a server, used
 * inside a fresh schema that is dropped at the end), else the embedded PGlite in a throwaway
 * GAMEPIPE_HOME. Input generation and table setup are not timed. Figures are printed, never
 * asserted: the row counts are checked, the times are only reported.
 *
 *   npm run bench:engine -- [--rows N] [--pg-rows N] [--insert-rows N] [--batch N] [--threads N] [--embedded]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { PgAdapter } from '../src/connections/adapter.js';
import { ConnectionRegistry, WAREHOUSE } from '../src/connections/registry.js';
import { resolvePaths, type GamepipePaths } from '../src/core/paths.js';
import { compileLayout } from '../src/engine/compile.js';
import { DuckEngine } from '../src/engine/duckdb.js';
import { writeJdbcOutput } from '../src/engine/outputs/jdbcOutput.js';
import { runJob } from '../src/engine/runJob.js';
import { loadJdbcSource } from '../src/engine/sources/jdbcSource.js';
import { loadLayout } from '../src/layout/load.js';
import { int, parseCount, secs, table, timed } from './lib/format.js';
import { adminQuery, hidePassword, progress, withSearchPath } from './lib/postgres.js';
import { sqlString } from '../src/sql/quote.js';

const USAGE = `usage: npm run bench:engine -- [options]
  --rows N         rows of the Parquet → DuckDB transform (default 10M)
  --pg-rows N      rows loaded into / read from PostgreSQL (default 1M)
  --insert-rows N  rows of the batched INSERT run (default: --pg-rows); when smaller than --pg-rows,
                   the INSERT rate is measured on N rows and extrapolated to --pg-rows
  --batch N        rows per INSERT statement (default 1000)
  --threads N      DuckDB threads (default: all cores)
  --embedded       use the embedded PGlite even when a database URL is set
PostgreSQL: GAMEPIPE_BENCH_DATABASE_URL, else GAMEPIPE_TEST_DATABASE_URL, else embedded PGlite.`;

const DAYS = 7;
const GAMES = 40;
const EVENT_NAMES = [
  'session_start', 'session_end', 'login', 'level_start', 'level_complete',
  'purchase', 'ad_view', 'item_acquire', 'tutorial_step', 'match_end',
];
const PRICES = [0.99, 1.99, 4.99, 9.99, 19.99, 49.99, 99.99];

interface Options {
  rows: number;
  pgRows: number;
  insertRows: number | undefined;
  batch: number;
  threads: number | undefined;
  embedded: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      'pg-rows': { type: 'string' },
      'insert-rows': { type: 'string' },
      batch: { type: 'string' },
      threads: { type: 'string' },
      embedded: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const opts: Options = {
    rows: values.rows ? parseCount(values.rows, '--rows') : 10_000_000,
    pgRows: values['pg-rows'] ? parseCount(values['pg-rows'], '--pg-rows') : 1_000_000,
    insertRows: values['insert-rows'] ? parseCount(values['insert-rows'], '--insert-rows') : undefined,
    batch: values.batch ? parseCount(values.batch, '--batch') : 1000,
    threads: values.threads ? parseCount(values.threads, '--threads') : undefined,
    embedded: values.embedded ?? false,
  };
  // 6 columns per row; PostgreSQL binds at most 65,535 parameters per statement.
  if (opts.batch * 6 > 65_535) throw new Error(`--batch: at most ${Math.floor(65_535 / 6)} rows per INSERT (6 parameters a row)`);
  return opts;
}

/**
 * Synthetic game events, deterministic (hash of the row number): ds over DAYS days in row
 * order, GAMES games, one user per ~10 events, ten event names, a price on purchases only.
 */
function eventsSelect(rows: number): string {
  const users = Math.max(1000, Math.floor(rows / 10));
  const names = `[${EVENT_NAMES.map(sqlString).join(', ')}]`;
  const prices = `[${PRICES.join(', ')}]`;
  const usPerRow = (DAYS * 86_400_000_000) / rows;
  // An independent pseudo-random stream per column: hash(i, 'tag') streams share their low bits.
  const h = (stream: number) => `hash(i + ${stream}_000_000_000_000)`;
  return `
    SELECT
      DATE '2024-06-01' + CAST(i * ${DAYS} // ${rows} AS INTEGER) AS ds,
      CAST(1 + ${h(1)} % ${GAMES} AS INTEGER) AS game_id,
      CAST(${h(2)} % ${users} AS BIGINT) AS user_id,
      ${names}[1 + CAST(${h(3)} % ${EVENT_NAMES.length} AS INTEGER)] AS event_name,
      CASE WHEN ${h(3)} % ${EVENT_NAMES.length} = ${EVENT_NAMES.indexOf('purchase')}
           THEN CAST(${prices}[1 + CAST(${h(4)} % ${PRICES.length} AS INTEGER)] AS DECIMAL(12,2))
      END AS amount,
      TIMESTAMP '2024-06-01 00:00:00' + to_microseconds(CAST(i * ${usPerRow} AS BIGINT)) AS event_ts
    FROM range(${rows}) AS r(i)`;
}

const PG_COLUMNS = ['ds', 'game_id', 'user_id', 'event_name', 'amount', 'event_ts'];
const PG_DDL = `(ds date, game_id integer, user_id bigint, event_name text, amount numeric(12,2), event_ts timestamp)`;

interface Rate {
  rows: number;
  seconds: number;
  rows_per_s: number;
}

function rate(rows: number, seconds: number): Rate {
  return { rows, seconds: Number(seconds.toFixed(4)), rows_per_s: Math.round(rows / seconds) };
}

// ---------------------------------------------------------------------------------------
// 1. Parquet → DuckDB transform → Parquet through a layout
// ---------------------------------------------------------------------------------------

async function benchTransform(
  opts: Options,
  paths: GamepipePaths,
  connections: ConnectionRegistry,
  dir: string,
): Promise<Rate & { files: number; groups: number; input_mb: number }> {
  const input = path.join(paths.lake, 'bench', 'events');
  progress(`generating ${int(opts.rows)} events as Parquet (not timed) …`);
  fs.mkdirSync(path.dirname(input), { recursive: true });
  const gen = await DuckEngine.open(paths.tmp, opts.threads ? { threads: opts.threads } : {});
  try {
    await gen.run(`COPY (${eventsSelect(opts.rows)}) TO ${sqlString(input)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (ds))`);
  } finally {
    gen.close();
  }
  const files = fs.readdirSync(input, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  const inputBytes = files.reduce((sum, e) => sum + fs.statSync(path.join(e.parentPath, e.name)).size, 0);

  const layoutFile = path.join(dir, 'layouts', 'bench_events_daily.json');
  fs.mkdirSync(path.dirname(layoutFile), { recursive: true });
  fs.writeFileSync(
    layoutFile,
    JSON.stringify(
      {
        name: 'bench_events_daily',
        layer: 'bench',
        description: 'Daily events, users and revenue per game and event name',
        inputSources: [{ name: 'events', type: 'file', path: '{lake}/bench/events', format: 'parquet' }],
        transformSql: [
          'SELECT ds, game_id, event_name,',
          '       count(*) AS events,',
          '       count(DISTINCT user_id) AS users,',
          '       sum(amount) AS revenue',
          'FROM events',
          'GROUP BY ds, game_id, event_name',
        ].join('\n'),
        output: { type: 'file', path: '{lake}/bench/events_daily', mode: 'overwritePartitions', partitionBy: ['ds'] },
      },
      null,
      2,
    ),
  );

  progress('running the layout (compileLayout + runJob) …');
  const { seconds, value: result } = await timed(() =>
    runJob(compileLayout(loadLayout(layoutFile), {}, paths), { paths, connections, ...(opts.threads ? { threads: opts.threads } : {}) }),
  );

  // Checks (not timed): every input row is counted once in the output.
  if (result.rowsRead !== opts.rows) throw new Error(`transform read ${result.rowsRead} rows, expected ${opts.rows}`);
  const check = await DuckEngine.open(paths.tmp);
  try {
    const out = path.join(paths.lake, 'bench', 'events_daily', '**', '*.parquet');
    const [row] = await check.rows<{ groups: number; events: number }>(
      `SELECT count(*) AS groups, CAST(sum(events) AS BIGINT) AS events FROM read_parquet(${sqlString(out)}, hive_partitioning = true)`,
    );
    if (Number(row?.events) !== opts.rows || Number(row?.groups) !== result.rowsWritten) {
      throw new Error(`transform output has ${row?.events} events in ${row?.groups} groups, expected ${opts.rows} in ${result.rowsWritten}`);
    }
  } finally {
    check.close();
  }
  return { ...rate(opts.rows, seconds), files: files.length, groups: result.rowsWritten, input_mb: Number((inputBytes / 1e6).toFixed(1)) };
}

// ---------------------------------------------------------------------------------------
// 2. Loading into PostgreSQL: COPY vs batched INSERT
// ---------------------------------------------------------------------------------------

async function pgCount(adapter: PgAdapter, tableName: string): Promise<number> {
  return adapter.withSession(async (s) => Number((await s.query<{ n: string }>(`SELECT count(*) AS n FROM ${tableName}`)).rows[0]?.n));
}

function insertSql(rows: number): string {
  const width = PG_COLUMNS.length;
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    tuples.push(`(${PG_COLUMNS.map((_, c) => `$${r * width + c + 1}`).join(', ')})`);
  }
  return `INSERT INTO bench_insert (${PG_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`;
}

interface LoadFigures {
  rows: number;
  copy_write_jdbc_output: Rate;
  copy_in_csv: Rate;
  insert: Rate & { batch: number; extrapolated: boolean; est_seconds_for_all_rows: number };
  ratio_copy_vs_insert: number;
  ratio_copy_in_csv_vs_insert: number;
}

async function benchLoad(opts: Options, insertRows: number, paths: GamepipePaths, adapter: PgAdapter): Promise<LoadFigures> {
  const n = opts.pgRows;
  const tmp = path.join(paths.tmp, 'jobs');
  fs.mkdirSync(tmp, { recursive: true });
  await adapter.withSession(async (s) => {
    for (const t of ['bench_copy', 'bench_copy_raw', 'bench_insert']) await s.query(`CREATE TABLE ${t} ${PG_DDL}`);
  });

  const engine = await DuckEngine.open(paths.tmp, opts.threads ? { threads: opts.threads } : {});
  try {
    progress(`generating ${int(n)} rows in DuckDB (not timed) …`);
    await engine.run(`CREATE TABLE bench_rows AS ${eventsSelect(n)}`);

    // 2a. The whole gamepipe bulk path: DuckDB → CSV → COPY into a staging table → INSERT … SELECT, one transaction.
    progress(`COPY ${int(n)} rows through writeJdbcOutput …`);
    const copy = await timed(() =>
      writeJdbcOutput(engine, 'bench_rows', adapter, { type: 'jdbc', connection: WAREHOUSE, table: 'bench_copy', mode: 'append' }, tmp, { job: 'bench' }),
    );
    if (copy.value.rowsWritten !== n || (await pgCount(adapter, 'bench_copy')) !== n) throw new Error('writeJdbcOutput did not load every row');

    // 2b. COPY alone: the adapter's copyInCsv from a CSV file DuckDB exported beforehand.
    const csv = path.join(tmp, `bench-${randomUUID()}.csv`);
    await engine.run(`COPY bench_rows TO ${sqlString(csv)} (FORMAT csv, HEADER false)`);
    progress(`COPY ${int(n)} rows through the adapter's copyInCsv …`);
    const raw = await timed(() => adapter.transaction((s) => s.copyInCsv('bench_copy_raw', PG_COLUMNS, csv)));
    fs.rmSync(csv, { force: true });
    if (raw.value !== n || (await pgCount(adapter, 'bench_copy_raw')) !== n) throw new Error('copyInCsv did not load every row');
    await adapter.withSession((s) => s.query('DROP TABLE bench_copy_raw'));

    // 2c. Batched multi-row INSERT with bound parameters, one transaction, the same rows.
    progress(`reading ${int(insertRows)} rows into JS for the INSERT run (not timed) …`);
    const reader = await engine.connection.runAndReadAll(
      `SELECT CAST(ds AS VARCHAR), game_id, user_id, event_name, CAST(amount AS VARCHAR), CAST(event_ts AS VARCHAR)
         FROM bench_rows LIMIT ${insertRows}`,
    );
    const values = reader.getRowsJson();
    progress(`INSERT ${int(insertRows)} rows, ${int(opts.batch)} rows per statement, one transaction …`);
    const fullBatch = insertSql(opts.batch);
    const insert = await timed(() =>
      adapter.transaction(async (s) => {
        for (let offset = 0; offset < values.length; offset += opts.batch) {
          const chunk = values.slice(offset, offset + opts.batch);
          await s.query(chunk.length === opts.batch ? fullBatch : insertSql(chunk.length), chunk.flat());
        }
      }),
    );
    if ((await pgCount(adapter, 'bench_insert')) !== insertRows) throw new Error('batched INSERT did not load every row');
    await adapter.withSession((s) => s.query('DROP TABLE bench_insert'));

    const copyRate = rate(n, copy.seconds);
    const rawRate = rate(n, raw.seconds);
    const insertRate = rate(insertRows, insert.seconds);
    return {
      rows: n,
      copy_write_jdbc_output: copyRate,
      copy_in_csv: rawRate,
      insert: {
        ...insertRate,
        batch: opts.batch,
        extrapolated: insertRows < n,
        est_seconds_for_all_rows: Number((n / (insertRows / insert.seconds)).toFixed(2)),
      },
      ratio_copy_vs_insert: Number((copyRate.rows_per_s / insertRate.rows_per_s).toFixed(2)),
      ratio_copy_in_csv_vs_insert: Number((rawRate.rows_per_s / insertRate.rows_per_s).toFixed(2)),
    };
  } finally {
    engine.close();
  }
}

// ---------------------------------------------------------------------------------------
// 3. A PostgreSQL source into DuckDB
// ---------------------------------------------------------------------------------------

async function benchSource(opts: Options, paths: GamepipePaths, adapter: PgAdapter): Promise<Rate> {
  const n = opts.pgRows;
  const engine = await DuckEngine.open(paths.tmp, opts.threads ? { threads: opts.threads } : {});
  try {
    progress(`loading ${int(n)} PostgreSQL rows into DuckDB with loadJdbcSource …`);
    const query = `SELECT ${PG_COLUMNS.join(', ')} FROM bench_copy`;
    const { seconds, value } = await timed(() =>
      loadJdbcSource(engine, adapter, 'pg_events', query, path.join(paths.tmp, 'jobs'), { job: 'bench' }),
    );
    const [row] = await engine.rows<{ n: number; users: string; revenue: string }>(
      `SELECT count(*) AS n, CAST(sum(user_id) AS VARCHAR) AS users, CAST(sum(amount) AS VARCHAR) AS revenue FROM pg_events`,
    );
    const [expected] = await adapter.withSession(async (s) =>
      (await s.query<{ users: string; revenue: string }>('SELECT sum(user_id)::text AS users, sum(amount)::text AS revenue FROM bench_copy')).rows,
    );
    if (value.rows !== n || Number(row?.n) !== n || row?.users !== expected?.users || Number(row?.revenue) !== Number(expected?.revenue)) {
      throw new Error(`jdbc source loaded ${JSON.stringify(row)}, expected ${n} rows with ${JSON.stringify(expected)}`);
    }
    return rate(n, seconds);
  } finally {
    engine.close();
  }
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = options();
  const serverUrl = opts.embedded
    ? undefined
    : process.env.GAMEPIPE_BENCH_DATABASE_URL || process.env.GAMEPIPE_TEST_DATABASE_URL || undefined;
  const urlVar = process.env.GAMEPIPE_BENCH_DATABASE_URL ? 'GAMEPIPE_BENCH_DATABASE_URL' : 'GAMEPIPE_TEST_DATABASE_URL';
  const insertRows = Math.min(opts.pgRows, opts.insertRows ?? opts.pgRows);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-bench-'));
  const env: NodeJS.ProcessEnv = { GAMEPIPE_HOME: path.join(dir, 'home') };
  const schema = serverUrl ? `gamepipe_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}` : undefined;
  let schemaCreated = false;
  env[`GAMEPIPE_CONN_${WAREHOUSE}`] = serverUrl && schema ? withSearchPath(serverUrl, schema) : 'embedded';
  const paths = resolvePaths(env);
  const connections = new ConnectionRegistry(paths, env, { connections: {} });

  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      await connections.closeAll().catch(() => undefined);
      if (serverUrl && schemaCreated) {
        await adminQuery(serverUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((err: Error) =>
          progress(`could not drop schema ${schema}: ${err.message}`),
        );
      }
      fs.rmSync(dir, { recursive: true, force: true });
    })());
  const interrupted = (signal: NodeJS.Signals) => {
    progress(`${signal}: cleaning up …`);
    const code = signal === 'SIGINT' ? 130 : 143;
    // A server session may still hold locks the DROP SCHEMA waits for: don't wait forever.
    setTimeout(() => process.exit(code), 10_000).unref();
    void cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    if (serverUrl && schema) {
      await adminQuery(serverUrl, `CREATE SCHEMA ${schema}`);
      schemaCreated = true;
    }
    const adapter = connections.get(WAREHOUSE);
    // Opening PGlite (or the pool's first connection) is not part of any measurement.
    const pgVersion = await adapter.withSession(async (s) =>
      String((await s.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? '?').replace(/ on .*$/, '').replace(/,.*$/, ''),
    );
    const probe = await DuckEngine.open(paths.tmp, opts.threads ? { threads: opts.threads } : {});
    const duckVersion = await probe.scalar<string>('SELECT version()');
    const threads = Number(await probe.scalar("SELECT current_setting('threads')"));
    probe.close();

    const loadBefore = os.loadavg()[0]!;
    const backend = serverUrl
      ? `postgres server ${hidePassword(serverUrl)} (from ${urlVar}), schema ${schema}, ${pgVersion}`
      : `embedded PGlite (${pgVersion}) in a temp GAMEPIPE_HOME`;
    progress(`backend: ${backend}`);

    const transform = await benchTransform(opts, paths, connections, dir);
    const load = await benchLoad(opts, insertRows, paths, adapter);
    const source = await benchSource(opts, paths, adapter);

    const loadAfter = os.loadavg()[0]!;
    const extrapolated = load.insert.extrapolated;
    const rows: string[][] = [
      ['1', `Parquet → DuckDB group-by → Parquet (layout, runJob); ${int(transform.groups)} groups`, int(transform.rows), secs(transform.seconds), int(transform.rows_per_s)],
      ['2a', 'PG load: COPY via writeJdbcOutput (CSV export + COPY + merge, 1 tx)', int(load.rows), secs(load.copy_write_jdbc_output.seconds), int(load.copy_write_jdbc_output.rows_per_s)],
      ['2b', "PG load: COPY via the adapter's copyInCsv (1 tx)", int(load.rows), secs(load.copy_in_csv.seconds), int(load.copy_in_csv.rows_per_s)],
      [
        '2c',
        `PG load: batched INSERT, ${int(load.insert.batch)} rows/statement, 1 tx${extrapolated ? ' (measured on fewer rows)' : ''}`,
        int(load.insert.rows),
        secs(load.insert.seconds),
        int(load.insert.rows_per_s),
      ],
      ['3', 'PG source → DuckDB (loadJdbcSource: COPY TO CSV + read_csv)', int(source.rows), secs(source.seconds), int(source.rows_per_s)],
    ];
    const lines = [
      '',
      `gamepipe engine bench — ${new Date().toISOString()}`,
      `backend:  ${backend}`,
      `engine:   DuckDB ${duckVersion}, ${threads} threads; node ${process.version}; ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      `machine:  1-min load average ${loadBefore.toFixed(2)} at start, ${loadAfter.toFixed(2)} at end (other work on the machine skews the figures)`,
      `input 1:  ${int(transform.rows)} events in ${transform.files} Parquet files (${transform.input_mb} MB, zstd, by ds), generated beforehand, not timed`,
      '',
      table(['#', 'what', 'rows', 'seconds', 'rows/s'], rows),
      '',
      `COPY/INSERT ratio: ${load.ratio_copy_vs_insert.toFixed(1)}x (writeJdbcOutput), ${load.ratio_copy_in_csv_vs_insert.toFixed(1)}x (copyInCsv alone)`,
    ];
    if (extrapolated) {
      lines.push(
        `note: batched INSERT measured on ${int(load.insert.rows)} of the ${int(load.rows)} rows; its rate is extrapolated:` +
          ` ~${secs(load.insert.est_seconds_for_all_rows)} s estimated for all ${int(load.rows)} (--insert-rows ${load.rows} to measure it all)`,
      );
    }
    lines.push('');
    console.log(lines.join('\n'));
    console.log(
      JSON.stringify({
        bench: 'engine',
        backend: serverUrl ? 'server' : 'pglite',
        postgres: pgVersion,
        duckdb: duckVersion,
        threads,
        loadavg_1m: { start: Number(loadBefore.toFixed(2)), end: Number(loadAfter.toFixed(2)) },
        parquet_transform: transform,
        pg_load: load,
        pg_source: source,
      }),
    );
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  const e = err as Error & { context?: unknown };
  console.error(`bench failed: ${e.message ?? String(err)}`);
  if (e.context) console.error(JSON.stringify(e.context));
  process.exitCode = 1;
});

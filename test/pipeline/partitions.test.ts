import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLayout } from '../../src/layout/load.js';
import { loadPipeline } from '../../src/pipeline/definition.js';
import { RunLog, type RunLogRow } from '../../src/pipeline/runLog.js';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';

/**
 * Fan-in: a job keyed by a subset of the run's vars (`partitionedBy`) runs once per value, after
 * every task of its upstream jobs in the var sets mapping to it. Here `day_totals` runs per
 * (gameId, logDate) and `game_totals` per gameId, summing all the game's days in the lake.
 */

const DAYS = ['2024-01-01', '2024-01-02', '2024-01-03'];
// n per game and day; the expected sums below are added up by hand.
const N: Record<string, number[][]> = {
  g1: [[1, 2], [3], [4, 5]], // days 3, 3, 9 → 15
  g2: [[10], [20], [30]], //    days 10, 20, 30 → 60
};

function write(file: string, body: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body, null, 2));
}

describe(`partitioned (fan-in) jobs (${backend})`, () => {
  let ws: Workspace;
  let dir: string;
  let raw: string;
  const ctx = () => ({ paths: ws.paths, connections: ws.connections });
  const totals = () => ws.query<{ game_id: string; days: number; total: number }>('SELECT game_id, days::int AS days, total::int AS total FROM game_totals ORDER BY game_id');
  const runsOf = async (pipelineRunId: string) => new RunLog(ws.connections.get('WAREHOUSE')).list({ pipelineRunId, limit: 100 });

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    raw = path.join(ws.dir, 'raw');
    for (const [game, days] of Object.entries(N)) {
      days.forEach((ns, i) => write(path.join(raw, game, `${DAYS[i]}.ndjson`), ns.map((n) => JSON.stringify({ n })).join('\n') + '\n'));
    }
    write(path.join(raw, 'games.ndjson'), '{"game_id":"g1"}\n{"game_id":"g2"}\n');
    dir = path.join(ws.dir, 'pipelines', 'games');
    write(path.join(dir, 'pipeline.json'), {
      partitions: {
        gameId: { inputSources: [{ name: 'games', type: 'file', path: `${raw}/games.ndjson`, format: 'ndjson' }], sql: 'SELECT game_id FROM games' },
      },
    });
    write(path.join(dir, 'day_totals.json'), {
      name: 'day_totals',
      inputSources: [{ name: 'raw', type: 'file', path: `${raw}/{gameId}/{logDate}.ndjson`, format: 'ndjson' }],
      transformSql: "SELECT DATE '{logDate}' AS ds, sum(n)::BIGINT AS total FROM raw",
      output: { type: 'file', path: '{lake}/day_totals/game_id={gameId}/ds={logDate}', mode: 'overwrite' },
    });
    write(path.join(dir, 'game_totals.json'), {
      name: 'game_totals',
      partitionedBy: ['gameId'],
      vars: { gameId: { type: 'string', required: true } },
      inputSources: [{ name: 'days', type: 'file', path: '{lake}/day_totals/game_id={gameId}', format: 'parquet' }],
      transformSql: "SELECT '{gameId}' AS game_id, count(*)::INT AS days, sum(total)::BIGINT AS total FROM days",
      output: {
        type: 'jdbc', connection: 'WAREHOUSE', table: 'game_totals', mode: 'deleteInsert', partition: { game_id: '{gameId}' },
        ddl: 'CREATE TABLE game_totals (game_id text PRIMARY KEY, days integer NOT NULL, total bigint NOT NULL)',
      },
    });
  });
  afterAll(() => ws.close());

  it('runs the game job once per game, after all of that game\'s day tasks', async () => {
    const varSets = Object.keys(N).flatMap((gameId) => DAYS.map((logDate) => ({ gameId, logDate })));
    const result = await runPipeline(loadPipeline(dir), ctx(), { varSets, concurrency: 3 });
    expect(result.ok).toBe(true);
    expect(result.tasks.filter((t) => t.job === 'day_totals')).toHaveLength(6);
    expect(result.tasks.filter((t) => t.job === 'game_totals').map((t) => t.vars)).toEqual([{ gameId: 'g1' }, { gameId: 'g2' }]);
    expect(await totals()).toEqual([
      { game_id: 'g1', days: 3, total: 15 },
      { game_id: 'g2', days: 3, total: 60 },
    ]);
    const runs = await runsOf(result.pipelineRunId);
    for (const game of Object.keys(N)) {
      const days = runs.filter((r: RunLogRow) => r.job === 'day_totals' && r.vars.gameId === game);
      const [fanIn] = runs.filter((r: RunLogRow) => r.job === 'game_totals' && r.vars.gameId === game);
      expect(days).toHaveLength(3);
      expect(fanIn!.vars).toEqual({ gameId: game }); // the lock key and run-log identity: the partition vars only
      for (const d of days) expect(fanIn!.started_at >= d.ended_at!).toBe(true);
    }
  });

  it('re-running one (game, day) rebuilds that game\'s total, never leaving it stale', async () => {
    write(path.join(raw, 'g1', `${DAYS[1]}.ndjson`), '{"n":100}\n');
    const result = await runPipeline(loadPipeline(dir), ctx(), { varSets: [{ gameId: 'g1', logDate: DAYS[1]! }] });
    expect(result.tasks.map((t) => `${t.job} ${t.status}`)).toEqual(['day_totals succeeded', 'game_totals succeeded']);
    expect(await totals()).toEqual([
      { game_id: 'g1', days: 3, total: 3 + 100 + 9 },
      { game_id: 'g2', days: 3, total: 60 },
    ]);
  });

  it('lists the games itself when a run gives only the day (pipeline.json partitions)', async () => {
    const result = await runPipeline(loadPipeline(dir), ctx(), { varSets: [{ logDate: DAYS[2]! }] });
    expect(result.tasks.map((t) => `${t.job} ${t.vars.gameId}${t.vars.logDate ? ` ${t.vars.logDate}` : ''}`)).toEqual([
      `day_totals g1 ${DAYS[2]}`,
      `day_totals g2 ${DAYS[2]}`,
      'game_totals g1',
      'game_totals g2',
    ]);
  });

  it('--only the game job needs only its own vars', async () => {
    const result = await runPipeline(loadPipeline(dir), ctx(), { varSets: [{ gameId: 'g2' }], only: ['game_totals'] });
    expect(result.tasks.map((t) => `${t.job} ${t.status}`)).toEqual(['game_totals succeeded']);
  });

  it('a required var outside partitionedBy is a layout error', () => {
    const file = path.join(ws.dir, 'bad.json');
    write(file, {
      name: 'bad',
      partitionedBy: ['gameId'],
      vars: { gameId: { type: 'string' }, logDate: { type: 'date' } },
      transformSql: 'SELECT 1 AS x',
      output: { type: 'file', path: '{lake}/bad', mode: 'overwrite' },
    });
    let error: unknown;
    try {
      loadLayout(file);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ message: 'invalid value', context: { jsonPath: '$.partitionedBy', expected: expect.stringMatching(/required var "logDate" among the partition vars/) } });
  });
});

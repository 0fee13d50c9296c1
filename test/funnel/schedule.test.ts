import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, backend, type Workspace } from '../helpers/workspace.js';
import { scheduleSchema } from '../../src/config/projectConfig.js';
import { WAREHOUSE } from '../../src/connections/registry.js';
import { levelFunnelIndexDir } from '../../src/funnel/paths.js';
import { RunLog } from '../../src/pipeline/runLog.js';
import { withPipelineSchedules } from '../../src/scheduler/pipelineSchedules.js';
import { pipelineRunner } from '../../src/scheduler/runScheduled.js';
import { ScheduleState } from '../../src/scheduler/scheduleState.js';
import { Scheduler, varsForFire } from '../../src/scheduler/scheduler.js';
import { randomLevelEvents, writeSilverRows } from './helpers/silverFixture.js';
import { dateRange } from '../../src/core/dates.js';

/**
 * The 02:00 UTC schedule, declared in pipelines/funnel/pipeline.json and fired by the regular
 * pipeline runner: the previous day, every game with level events (the pipeline's gameId
 * partitions), each game's index rebuilt after its day, missed days caught up.
 */

describe(`level funnel schedule (${backend})`, () => {
  let ws: Workspace;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    await writeSilverRows(ws.paths.lake, randomLevelEvents(4, { days: dateRange('2024-09-09', '2024-09-10'), events: 150 }));
  });
  afterAll(async () => ws?.close());

  const schedule = withPipelineSchedules([]).find((s) => s.pipeline === 'funnel')!;

  it('is a valid gamepipe.config.json schedule firing at 02:00 UTC for the day before', () => {
    expect(schedule).toMatchObject({ cron: '0 2 * * *', timezone: 'UTC', pipeline: 'funnel', dateVar: 'logDate', dateOffsetDays: -1 });
    expect(varsForFire(schedule, new Date('2024-09-10T02:00:00Z'))).toEqual({ logDate: '2024-09-09' });
  });

  it('is added to the configured schedules unless the configuration schedules the funnel itself', () => {
    const daily = scheduleSchema.parse({ name: 'daily', pipeline: 'daily', cron: '0 3 * * *' });
    const notWarehouse = (list: ReturnType<typeof withPipelineSchedules>) => list.filter((s) => s.pipeline !== 'warehouse');
    expect(notWarehouse(withPipelineSchedules([daily])).map((s) => `${s.name} ${s.pipeline} ${s.cron}`)).toEqual(['daily daily 0 3 * * *', 'level-funnel funnel 0 2 * * *']);
    const own = scheduleSchema.parse({ name: 'funnel-late', pipeline: 'funnel', cron: '30 4 * * *' });
    expect(notWarehouse(withPipelineSchedules([daily, own]))).toEqual([daily, own]);
  });

  it('catches up missed fire times: each aggregates its previous day for every game', async () => {
    const state = new ScheduleState(ws.connections.get(WAREHOUSE));
    await state.recordFire(schedule.name, new Date('2024-09-09T02:00:00Z'));
    const scheduler = new Scheduler([schedule], state, pipelineRunner({ paths: ws.paths, connections: ws.connections }));
    const done = await scheduler.catchUp(new Date('2024-09-11T03:00:00Z'));
    expect(done.map((d) => [d.fireTime.toISOString(), d.ok])).toEqual([
      ['2024-09-10T02:00:00.000Z', true],
      ['2024-09-11T02:00:00.000Z', true],
    ]);
    const rows = await ws.query<{ game_id: string; date: string }>(
      `SELECT DISTINCT game_id, to_char(date, 'YYYY-MM-DD') AS date FROM level_metrics_daily ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { game_id: 'g1', date: '2024-09-09' }, { game_id: 'g1', date: '2024-09-10' },
      { game_id: 'other_game', date: '2024-09-09' }, { game_id: 'other_game', date: '2024-09-10' },
    ]);
    expect((await state.lastFire(schedule.name))?.toISOString()).toBe('2024-09-11T02:00:00.000Z');
    // each fire rebuilt each game's index once, after that game's day
    const runs = await new RunLog(ws.connections.get(WAREHOUSE)).list({ pipeline: 'funnel', job: 'level_funnel_index' });
    expect(runs.map((r) => `${r.vars.gameId} ${r.status}`).sort()).toEqual(['g1 succeeded', 'g1 succeeded', 'other_game succeeded', 'other_game succeeded']);
    for (const game of ['g1', 'other_game']) expect(fs.existsSync(levelFunnelIndexDir(ws.paths, game))).toBe(true);
  });
});

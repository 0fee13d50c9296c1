import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleSchema } from '../../src/config/projectConfig.js';
import { RunLog } from '../../src/pipeline/runLog.js';
import { pipelineRunner } from '../../src/scheduler/runScheduled.js';
import { ScheduleState } from '../../src/scheduler/scheduleState.js';
import { missedFireTimes, Scheduler, varsForFire } from '../../src/scheduler/scheduler.js';
import { buildApp } from '../../src/server/app.js';
import { writeStudioEvents, writeStudioPipeline } from '../helpers/studioPipeline.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';

const daily = (pipeline: string) =>
  scheduleSchema.parse({ name: 'daily', pipeline, cron: '0 2 * * *', dateVar: 'logDate' });

describe('schedules', () => {
  it('lists the fire times missed between two instants, with the previous day as logDate', () => {
    const schedule = daily('studio');
    const missed = missedFireTimes(schedule, new Date('2024-12-01T02:00:00Z'), new Date('2024-12-04T03:00:00Z'));
    expect(missed.map((d) => d.toISOString())).toEqual(['2024-12-02T02:00:00.000Z', '2024-12-03T02:00:00.000Z', '2024-12-04T02:00:00.000Z']);
    expect(missed.map((d) => varsForFire(schedule, d).logDate)).toEqual(['2024-12-01', '2024-12-02', '2024-12-03']);
    const every5 = scheduleSchema.parse({ name: 'sync', pipeline: 'x', cron: '*/5 * * * *' });
    expect(missedFireTimes(every5, new Date('2024-12-01T00:00:00Z'), new Date('2024-12-01T00:21:00Z'))).toHaveLength(4);
    expect(varsForFire(every5, new Date())).toEqual({});
    // a schedule in another timezone gives that timezone's date
    const bangkok = scheduleSchema.parse({ name: 'th', pipeline: 'x', cron: '0 2 * * *', timezone: 'Asia/Bangkok', dateVar: 'logDate' });
    const [fire] = missedFireTimes(bangkok, new Date('2024-12-01T12:00:00Z'), new Date('2024-12-02T12:00:00Z'));
    expect(fire!.toISOString()).toBe('2024-12-01T19:00:00.000Z');
    expect(varsForFire(bangkok, fire!).logDate).toBe('2024-12-01');
  });
});

describe(`scheduler catch-up (${backend})`, () => {
  let ws: Workspace;
  let pipelineDir: string;

  beforeAll(async () => {
    ws = await createWorkspace();
    const raw = path.join(ws.dir, 'raw');
    writeStudioEvents(raw, '2024-12-01', 5);
    pipelineDir = writeStudioPipeline(ws.dir, raw);
  });
  afterAll(() => ws.close());

  it('runs the days missed while down, oldest first, then nothing twice', async () => {
    const state = new ScheduleState(ws.connections.get('WAREHOUSE'));
    const ctx = { paths: ws.paths, connections: ws.connections };
    const scheduler = new Scheduler([daily(pipelineDir)], state, pipelineRunner(ctx));

    // First start ever: nothing is "missed", the latest fire time is remembered.
    expect(await scheduler.catchUp(new Date('2024-12-02T03:00:00Z'))).toEqual([]);
    expect((await state.lastFire('daily'))!.toISOString()).toBe('2024-12-02T02:00:00.000Z');

    // Down for three days: the fires of the 3rd, 4th and 5th run on restart, for the day before each.
    const ran = await scheduler.catchUp(new Date('2024-12-05T09:30:00Z'));
    expect(ran.map((r) => [r.fireTime.toISOString(), r.ok])).toEqual([
      ['2024-12-03T02:00:00.000Z', true],
      ['2024-12-04T02:00:00.000Z', true],
      ['2024-12-05T02:00:00.000Z', true],
    ]);
    const runs = await new RunLog(ws.connections.get('WAREHOUSE')).list({ job: 'cons_revenue', limit: 10 });
    expect(runs.map((r) => r.vars.logDate).sort()).toEqual(['2024-12-02', '2024-12-03', '2024-12-04']);
    expect(await ws.query("SELECT count(DISTINCT ds)::int AS days FROM revenue")).toEqual([{ days: 3 }]);
    expect((await state.lastFire('daily'))!.toISOString()).toBe('2024-12-05T02:00:00.000Z');

    expect(await scheduler.catchUp(new Date('2024-12-05T10:00:00Z'))).toEqual([]);
    await scheduler.stop();
  });

  it('serves the run log over HTTP', async () => {
    const app = await buildApp({ connections: ws.connections, publicRead: true });
    try {
      const res = await app.inject({ method: 'GET', url: '/api/runs?job=cons_revenue&limit=2' });
      expect(res.statusCode).toBe(200);
      const rows = res.json() as { job: string; status: string }[];
      expect(rows).toHaveLength(2);
      expect(rows.every((r) => r.job === 'cons_revenue' && r.status === 'succeeded')).toBe(true);
      expect((await app.inject({ method: 'GET', url: '/api/runs?limit=zero' })).statusCode).toBe(400);
    } finally {
      await app.close();
    }
  });
});

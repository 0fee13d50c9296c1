import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../src/ingest/ingest.js';
import { jobLockKey } from '../../src/pipeline/executeJob.js';
import { computeQualityReport } from '../../src/quality/report.js';
import { buildSilverDay } from '../../src/quality/silver.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';

/**
 * `silver` and `quality` run the daily pipeline's jobs through the runner: each execution is a
 * run-log row of pipeline `daily`, and holds the job's lock (the key of jobLockKey), so a second
 * invocation for the same day waits for the first.
 */

const DAY = '2024-05-01';
// Four lines: three distinct events, one repeated eventId (a duplicate).
const EVENTS = [
  '{"eventId":"r-1","eventName":"register","timestamp":"2024-05-01T08:00:00Z","gameId":"game_1","userId":"u1","platform":"iOS","countryCode":"TH","properties":{"installSource":"organic"}}',
  '{"eventId":"l-1","eventName":"login","timestamp":"2024-05-01T08:00:02Z","gameId":"game_1","userId":"u1","platform":"iOS","countryCode":"TH","properties":{"level":1,"ip":"171.96.14.203"}}',
  '{"eventId":"l-2","eventName":"login","timestamp":"2024-05-01T09:00:00Z","gameId":"game_1","userId":"u1","platform":"iOS","countryCode":"TH","properties":{"level":1,"ip":"171.96.14.203"}}',
  '{"eventId":"l-2","eventName":"login","timestamp":"2024-05-01T09:00:00Z","gameId":"game_1","userId":"u1","platform":"iOS","countryCode":"TH","properties":{"level":1,"ip":"171.96.14.203"}}',
];

interface Row {
  pipeline: string;
  job: string;
  vars: Record<string, string>;
  status: string;
  rows_written: number | null;
  started_at: string;
  ended_at: string;
}

describe(`silver and quality through the pipeline runner (${backend})`, () => {
  let ws: Workspace;
  const ctx = () => ({ paths: ws.paths, connections: ws.connections });
  const runs = (job: string) =>
    ws.query<Row>(
      `SELECT pipeline, job, vars, status, rows_written::float8 AS rows_written,
              to_char(started_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS started_at, to_char(ended_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS ended_at
       FROM etl_run_log WHERE job = '${job}' ORDER BY started_at`,
    );
  const dbNow = async () => (await ws.query<{ now: string }>(`SELECT to_char(clock_timestamp(), 'YYYY-MM-DD"T"HH24:MI:SS.US') AS now`))[0]!.now;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    const file = path.join(ws.dir, 'events-2024-05-01.ndjson');
    fs.writeFileSync(file, EVENTS.join('\n') + '\n');
    await ingestFiles([file], ws.paths, { now: () => new Date('2024-05-02T08:00:00Z') });
  });
  afterAll(() => ws.close());

  it('silver and quality each write a run-log row of the daily pipeline', async () => {
    const silver = await buildSilverDay(DAY, ctx());
    expect(silver).toMatchObject({ rows: 4, valid: 3, duplicates: 1 });
    const { report } = await computeQualityReport(DAY, ctx());
    expect(report).toMatchObject({ raw: 4, valid: 3, duplicates: 1 });
    expect((await runs('silver_events')).map(({ started_at: _s, ended_at: _e, ...r }) => r)).toEqual([
      { pipeline: 'daily', job: 'silver_events', vars: { logDate: DAY }, status: 'succeeded', rows_written: 4 },
    ]);
    expect((await runs('quality_daily')).map(({ started_at: _s, ended_at: _e, ...r }) => r)).toEqual([
      { pipeline: 'daily', job: 'quality_daily', vars: { logDate: DAY }, status: 'succeeded', rows_written: 1 },
    ]);
  });

  it('a second invocation waits on the lock of the first', async () => {
    const before = (await runs('silver_events')).length;
    let released = '';
    const warehouse = ws.connections.get('WAREHOUSE');
    // Hold the job's lock as a running silver would, and start silver for the same day.
    const waiting = await warehouse.withLock(jobLockKey('daily', 'silver_events', { logDate: DAY }), async () => {
      const pending = buildSilverDay(DAY, ctx());
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await runs('silver_events')).toHaveLength(before); // it has not started
      released = await dbNow();
      return { pending };
    });
    expect((await waiting.pending).rows).toBe(4);
    const after = await runs('silver_events');
    expect(after).toHaveLength(before + 1);
    expect(after[after.length - 1]!.started_at >= released).toBe(true);

    // Two invocations at once: the second starts only after the first has finished.
    await Promise.all([buildSilverDay(DAY, ctx()), buildSilverDay(DAY, ctx())]);
    const [a, b] = (await runs('silver_events')).slice(-2);
    expect(a!.status).toBe('succeeded');
    expect(b!.status).toBe('succeeded');
    expect(b!.started_at >= a!.ended_at).toBe(true);
  });
});

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunLauncher } from '../../src/dashboard/runLauncher.js';
import { RunLog } from '../../src/pipeline/runLog.js';
import { backend, createWorkspace, writeFiles, type Workspace } from '../helpers/workspace.js';

/** Runs started from the dashboard: progress counted per task, and a retry reruns only what failed. */
describe(`RunLauncher (${backend})`, () => {
  let ws: Workspace;
  let pipelineDir: string;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    pipelineDir = path.join(ws.dir, 'pipelines', 'tiny');
    writeFiles(pipelineDir, {
      'first.json': JSON.stringify({
        name: 'first',
        transformSql: "SELECT CAST('{logDate}' AS DATE) AS ds, 1 AS n",
        output: { type: 'jdbc', connection: 'WAREHOUSE', table: 'tiny_first', mode: 'deleteInsert', partition: { ds: '{logDate}' } },
      }),
      'second.json': JSON.stringify({
        name: 'second',
        inputSources: [{ name: 'needed', type: 'jdbc', connection: 'WAREHOUSE', query: 'SELECT a, b FROM tiny_needed' }],
        transformSql: "SELECT CAST('{logDate}' AS DATE) AS ds, count(*) AS n FROM needed",
        output: { type: 'jdbc', connection: 'WAREHOUSE', table: 'tiny_second', mode: 'deleteInsert', partition: { ds: '{logDate}' } },
      }),
    });
  });
  afterAll(async () => ws?.close());

  it('counts progress, reports a failure, and a retry reruns only the failed job', async () => {
    const launcher = new RunLauncher({ paths: ws.paths, connections: ws.connections });
    const first = launcher.start({ pipeline: pipelineDir, from: '2024-12-01', to: '2024-12-01' });
    expect(first.status).toBe('running');
    await launcher.idle();
    const [done] = launcher.list();
    expect(done, done!.error ?? '').toMatchObject({ status: 'failed', total: 2, done: 2, failed: 1 });
    expect(done!.pipelineRunId).not.toBeNull();

    await ws.query('CREATE TABLE tiny_needed AS SELECT 1 AS a, 2 AS b UNION ALL SELECT 3, 4');
    launcher.start({ pipeline: pipelineDir, from: '2024-12-01', to: '2024-12-01', retry: true });
    await launcher.idle();
    const [retried] = launcher.list();
    expect(retried).toMatchObject({ status: 'succeeded', retry: true, failed: 0 });
    const runs = await new RunLog(ws.connections.get('WAREHOUSE')).list({ pipelineRunId: retried!.pipelineRunId!, limit: 10 });
    expect(runs.filter((r) => r.status === 'succeeded').map((r) => r.job)).toEqual(['second']);
    expect(await ws.query('SELECT n::int AS n FROM tiny_second')).toEqual([{ n: 2 }]);
  });

  it('names an unknown pipeline before starting anything', () => {
    const launcher = new RunLauncher({ paths: ws.paths, connections: ws.connections });
    expect(() => launcher.start({ pipeline: 'no_such_pipeline', from: '2024-12-01', to: '2024-12-01' })).toThrow(/pipeline "no_such_pipeline" not found/);
    expect(launcher.list()).toEqual([]);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '../../src/connections/registry.js';
import { compileLayout } from '../../src/engine/compile.js';
import { loadPipeline } from '../../src/pipeline/definition.js';
import { buildGraph } from '../../src/pipeline/graph.js';
import { RunLog, type RunLogRow } from '../../src/pipeline/runLog.js';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { STUDIO_JOBS, writeStudioEvents, writeStudioPipeline } from '../helpers/studioPipeline.js';
import { backend, createWorkspace, serverUrl, type Workspace } from '../helpers/workspace.js';

const overlaps = (a: RunLogRow, b: RunLogRow) => a.started_at < b.ended_at! && b.started_at < a.ended_at!;

describe(`pipelines (${backend})`, () => {
  let ws: Workspace;
  let pipelineDir: string;
  let runLog: RunLog;

  beforeAll(async () => {
    ws = await createWorkspace();
    const raw = path.join(ws.dir, 'raw');
    writeStudioEvents(raw, '2024-12-01', 7);
    pipelineDir = writeStudioPipeline(ws.dir, raw);
    runLog = new RunLog(ws.connections.get('WAREHOUSE'));
  });
  afterAll(() => ws.close());

  const ctx = () => ({ paths: ws.paths, connections: ws.connections });

  it('infers the graph of 12 layouts from paths and tables', () => {
    const def = loadPipeline(pipelineDir);
    expect(def.layouts).toHaveLength(12);
    const graph = buildGraph(def.layouts.map((l) => compileLayout(l, { logDate: '2024-12-01' }, ws.paths)));
    const deps = Object.fromEntries([...graph.nodes].map(([name, node]) => [name, node.dependsOn]));
    const etl = STUDIO_JOBS.slice(0, 7);
    for (const name of etl) expect(deps[name]).toEqual([]);
    expect(deps.std_active).toEqual([...etl].sort());
    expect(deps.cons_active_users).toEqual(['std_active']);
    expect(deps.cons_revenue).toEqual(['etl_recharge']);
    expect(deps.cons_cumulative_revenue).toEqual(['etl_recharge']);
    expect(deps.cons_server_performance).toEqual(['cons_active_users', 'cons_revenue']);
    expect(graph.nodes.get('cons_cumulative_revenue')!.stateful).toBe(true);
    expect(graph.nodes.get('cons_revenue')!.stateful).toBe(false);
    const pos = (n: string) => graph.order.indexOf(n);
    expect(pos('std_active')).toBeGreaterThan(Math.max(...etl.map(pos)));
    expect(pos('cons_server_performance')).toBeGreaterThan(pos('cons_active_users'));
  });

  it('runs independent jobs at the same time and records every run', async () => {
    const result = await runPipeline(loadPipeline(pipelineDir), ctx(), { varSets: [{ logDate: '2024-12-01' }], concurrency: 4 });
    expect(result.ok).toBe(true);
    expect(result.tasks.map((t) => t.job).sort()).toEqual([...STUDIO_JOBS].sort());
    const rows = await runLog.list({ pipelineRunId: result.pipelineRunId, limit: 100 });
    expect(rows).toHaveLength(12);
    expect(rows.every((r) => r.status === 'succeeded' && r.ended_at && r.rows_written !== null)).toBe(true);
    const byJob = new Map(rows.map((r) => [r.job, r]));
    // some pair of ETL jobs overlapped in time
    const etl = STUDIO_JOBS.slice(0, 7).map((j) => byJob.get(j)!);
    expect(etl.some((a) => etl.some((b) => a !== b && overlaps(a, b)))).toBe(true);
    // and no job started before what it reads had finished
    const std = byJob.get('std_active')!;
    for (const e of etl) expect(e.ended_at! <= std.started_at).toBe(true);
    expect(byJob.get('cons_active_users')!.started_at >= std.ended_at!).toBe(true);
  });

  it('stops only the dependents of a failed job, then resumes with --from-failure', async () => {
    const file = path.join(pipelineDir, 'etl', 'etl_item_spend.json');
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, good.replace('SELECT CAST(ds AS DATE) AS ds', "SELECT error('injected failure') AS boom, CAST(ds AS DATE) AS ds"));
    const failed = await runPipeline(loadPipeline(pipelineDir), ctx(), { varSets: [{ logDate: '2024-12-02' }], concurrency: 3 });
    fs.writeFileSync(file, good);
    const status = Object.fromEntries(failed.tasks.map((t) => [t.job, t.status]));
    expect(failed.ok).toBe(false);
    expect(status.etl_item_spend).toBe('failed');
    for (const j of ['std_active', 'cons_active_users', 'cons_server_performance']) expect(status[j]).toBe('skipped');
    for (const j of ['etl_login', 'etl_logout', 'etl_recharge', 'etl_item_gain', 'etl_money_gain', 'etl_money_spend', 'cons_revenue', 'cons_cumulative_revenue']) {
      expect(status[j]).toBe('succeeded');
    }
    expect(failed.tasks.find((t) => t.job === 'etl_item_spend')!.error).toContain('injected failure');
    expect((await runLog.list({ failed: true, job: 'etl_item_spend' }))[0]!.error).toContain('injected failure');

    const resumed = await runPipeline(loadPipeline(pipelineDir), ctx(), { varSets: [{ logDate: '2024-12-02' }], fromFailure: true });
    expect(resumed.ok).toBe(true);
    expect(resumed.tasks.map((t) => t.job).sort()).toEqual(['cons_active_users', 'cons_server_performance', 'etl_item_spend', 'std_active']);
    expect(await ws.query("SELECT count(*)::int AS n FROM server_performance WHERE ds = '2024-12-02'")).toEqual([{ n: 3 }]);
  });

  it('serializes two concurrent invocations of the same job and vars', async () => {
    // On a server, the second invocation has its own connections, like a second process.
    const other = serverUrl ? new ConnectionRegistry(ws.paths, ws.env, { connections: {} }) : ws.connections;
    const def = loadPipeline(pipelineDir);
    const opts = { varSets: [{ logDate: '2024-12-03' }], only: ['etl_login'] };
    const [a, b] = await Promise.all([
      runPipeline(def, ctx(), opts),
      runPipeline(def, { paths: ws.paths, connections: other }, opts),
    ]);
    if (other !== ws.connections) await other.closeAll();
    expect(a.ok && b.ok).toBe(true);
    const [ra] = await runLog.list({ pipelineRunId: a.pipelineRunId });
    const [rb] = await runLog.list({ pipelineRunId: b.pipelineRunId });
    expect(overlaps(ra!, rb!)).toBe(false);
  });

  it('a 7-day backfill gives the same tables as 7 single-day runs', async () => {
    const days = ['2024-12-01', '2024-12-02', '2024-12-03', '2024-12-04', '2024-12-05', '2024-12-06', '2024-12-07'];
    const single = await createWorkspace();
    const raw = path.join(ws.dir, 'raw');
    const singleDir = writeStudioPipeline(single.dir, raw);
    try {
      for (const logDate of days) {
        const r = await runPipeline(loadPipeline(singleDir), { paths: single.paths, connections: single.connections }, { varSets: [{ logDate }] });
        expect(r.ok).toBe(true);
      }
      const backfill = await createWorkspace();
      const backfillDir = writeStudioPipeline(backfill.dir, raw);
      try {
        const r = await runPipeline(loadPipeline(backfillDir), { paths: backfill.paths, connections: backfill.connections }, {
          varSets: days.map((logDate) => ({ logDate })),
          concurrency: 4,
        });
        expect(r.ok).toBe(true);
        expect(r.tasks).toHaveLength(7 * 12);
        for (const table of ['active_users', 'revenue', 'cumulative_revenue', 'server_performance']) {
          const sql = `SELECT to_char(ds, 'YYYY-MM-DD') AS ds, * FROM ${table} ORDER BY 1, 3, 4`;
          const expected = await single.query(sql);
          expect(expected.length).toBeGreaterThan(0);
          expect(await backfill.query(sql)).toEqual(expected);
        }
        // the stateful job ran its days in order
        const cumulative = (await new RunLog(backfill.connections.get('WAREHOUSE')).list({ job: 'cons_cumulative_revenue', limit: 20 }))
          .sort((x, y) => x.started_at.localeCompare(y.started_at));
        expect(cumulative.map((x) => x.vars.logDate)).toEqual(days);
        for (let i = 1; i < cumulative.length; i++) expect(cumulative[i]!.started_at >= cumulative[i - 1]!.ended_at!).toBe(true);
      } finally {
        await backfill.close();
      }
    } finally {
      await single.close();
    }
  });
});

import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '../../src/connections/registry.js';
import { loadPipeline } from '../../src/pipeline/definition.js';
import { RunLog } from '../../src/pipeline/runLog.js';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { isTransientError } from '../../src/pipeline/transient.js';
import { writeStudioEvents, writeStudioPipeline } from '../helpers/studioPipeline.js';
import { createWorkspace, serverUrl, type Workspace } from '../helpers/workspace.js';

describe('transient errors', () => {
  it('recognises connection drops, lock timeouts, deadlocks and serialization failures', () => {
    expect(isTransientError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }))).toBe(true);
    expect(isTransientError(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: '40P01' }) }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('could not serialize access'), { code: '40001' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('syntax error at or near "FORM"'), { code: '42601' }))).toBe(false);
    expect(isTransientError(new Error('Binder Error: column not found'))).toBe(false);
  });
});

/** A lock held by someone else makes the job's write time out; the pipeline retries it and succeeds. */
describe.skipIf(!serverUrl)('retries on a real server', () => {
  let ws: Workspace;
  let pipelineDir: string;

  beforeAll(async () => {
    ws = await createWorkspace();
    const raw = path.join(ws.dir, 'raw');
    writeStudioEvents(raw, '2024-12-01', 1);
    pipelineDir = writeStudioPipeline(ws.dir, raw);
    fs.writeFileSync(path.join(pipelineDir, 'pipeline.json'), JSON.stringify({ retries: 5, retryDelayMs: 300 }));
  });
  afterAll(() => ws.close());

  it('retries a lock timeout with backoff and records the attempts', async () => {
    const def = loadPipeline(pipelineDir);
    const only = { varSets: [{ logDate: '2024-12-01' }], only: ['etl_recharge', 'cons_revenue'] };
    expect((await runPipeline(def, { paths: ws.paths, connections: ws.connections }, only)).ok).toBe(true);

    const url = new URL(ws.env.GAMEPIPE_CONN_WAREHOUSE!);
    url.searchParams.set('options', `${url.searchParams.get('options')} -c lock_timeout=200`);
    const impatient = new ConnectionRegistry(ws.paths, { ...ws.env, GAMEPIPE_CONN_WAREHOUSE: url.toString() }, { connections: {} });
    const holder = new pg.Client({ connectionString: ws.env.GAMEPIPE_CONN_WAREHOUSE });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE revenue IN ACCESS EXCLUSIVE MODE');
      const release = setTimeout(() => void holder.query('COMMIT'), 1200);
      const result = await runPipeline(def, { paths: ws.paths, connections: impatient }, { ...only, only: ['cons_revenue'] });
      clearTimeout(release);
      expect(result.ok).toBe(true);
      expect(result.tasks[0]!.attempts).toBeGreaterThan(1);
      const [row] = await new RunLog(ws.connections.get('WAREHOUSE')).list({ pipelineRunId: result.pipelineRunId });
      expect(row!.status).toBe('succeeded');
      expect(row!.attempt).toBeGreaterThan(1);
      expect(row!.error).toMatch(/lock timeout/);
    } finally {
      await holder.query('COMMIT').catch(() => undefined);
      await holder.end();
      await impatient.closeAll();
    }
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, readParquetRows, writeFiles, type Workspace } from '../helpers/workspace.js';

/** Parquet outputs: overwrite, overwritePartitions and append, each re-run twice. */
describe('file outputs', () => {
  let ws: Workspace;
  let rawDir: string;

  const layout = (name: string, output: Record<string, unknown>) =>
    ws.layout(name, {
      name,
      inputSources: [{ name: 'ev', type: 'file', path: `${rawDir}/ds={logDate}`, format: 'ndjson' }],
      transformSql: 'SELECT CAST(ds AS DATE) AS ds, user_id, sum(amount) AS amount FROM ev GROUP BY ALL',
      output: { type: 'file', ...output },
    });

  beforeAll(async () => {
    ws = await createWorkspace();
    rawDir = path.join(ws.dir, 'raw');
    writeFiles(rawDir, {
      'ds=2024-12-28/a.ndjson': '{"user_id":"u1","amount":1}\n{"user_id":"u1","amount":2}\n',
      'ds=2024-12-29/a.ndjson': '{"user_id":"u2","amount":5}\n',
    });
  });
  afterAll(() => ws.close());

  const rowsOf = async (dir: string) =>
    (await readParquetRows(dir, 'ds, user_id')).map((r) => `${r.ds} ${r.user_id} ${r.amount}`);

  it('overwritePartitions replaces only the partitions in the result, idempotently', async () => {
    const file = layout('by_day', { path: '{lake}/silver/by_day', mode: 'overwritePartitions', partitionBy: ['ds'] });
    const target = path.join(ws.paths.lake, 'silver/by_day');
    await ws.run(file, { logDate: '2024-12-28' });
    await ws.run(file, { logDate: '2024-12-29' });
    expect(await rowsOf(target)).toEqual(['2024-12-28 u1 3', '2024-12-29 u2 5']);

    // New data for the 28th arrives; re-running the 28th twice replaces it and leaves the 29th alone.
    writeFiles(rawDir, { 'ds=2024-12-28/b.ndjson': '{"user_id":"u9","amount":7}\n' });
    const first = await ws.run(file, { logDate: '2024-12-28' });
    await ws.run(file, { logDate: '2024-12-28' });
    expect(first.replaced.partitions).toEqual(['ds=2024-12-28']);
    expect(first.rowsWritten).toBe(2);
    expect(await rowsOf(target)).toEqual(['2024-12-28 u1 3', '2024-12-28 u9 7', '2024-12-29 u2 5']);
    expect(fs.readdirSync(path.join(target, 'ds=2024-12-28'))).toHaveLength(1);
    // no staging or old copies left behind
    expect(fs.readdirSync(path.dirname(target)).filter((f) => f.startsWith('.'))).toEqual([]);
    fs.rmSync(path.join(rawDir, 'ds=2024-12-28/b.ndjson'));
  });

  it('overwrite replaces the whole output folder', async () => {
    const file = layout('snapshot', { path: '{lake}/gold/snapshot', mode: 'overwrite' });
    const target = path.join(ws.paths.lake, 'gold/snapshot');
    await ws.run(file, { logDate: '2024-12-28' });
    await ws.run(file, { logDate: '2024-12-29' });
    await ws.run(file, { logDate: '2024-12-29' });
    expect(await rowsOf(target)).toEqual(['2024-12-29 u2 5']);
    expect(fs.readdirSync(target)).toHaveLength(1);
  });

  it('append adds files (and rows) on every run', async () => {
    const file = layout('appended', { path: '{lake}/bronze/appended', mode: 'append', partitionBy: ['ds'] });
    const target = path.join(ws.paths.lake, 'bronze/appended');
    await ws.run(file, { logDate: '2024-12-28' });
    await ws.run(file, { logDate: '2024-12-28' });
    await ws.run(file, { logDate: '2024-12-29' });
    expect(await rowsOf(target)).toEqual(['2024-12-28 u1 3', '2024-12-28 u1 3', '2024-12-29 u2 5']);
    expect(fs.readdirSync(path.join(target, 'ds=2024-12-28'))).toHaveLength(2);
  });

  it('keeps the previous output when the transform fails', async () => {
    const target = path.join(ws.paths.lake, 'gold/fragile');
    const ok = layout('fragile', { path: '{lake}/gold/fragile', mode: 'overwrite' });
    await ws.run(ok, { logDate: '2024-12-29' });
    const broken = ws.layout('fragile_broken', {
      name: 'fragile',
      inputSources: [{ name: 'ev', type: 'file', path: `${rawDir}/ds={logDate}`, format: 'ndjson' }],
      // fails while DuckDB writes (a runtime cast error), after the output started
      transformSql: "SELECT CAST(ds AS DATE) AS ds, user_id, CAST('x' || amount AS INTEGER) AS amount FROM ev",
      output: { type: 'file', path: '{lake}/gold/fragile', mode: 'overwrite' },
    });
    // The result is streamed into the write (never materialized), and the error still names the transform.
    await expect(ws.run(broken, { logDate: '2024-12-28' })).rejects.toThrow(/transform failed: .*Could not convert/);
    expect(await rowsOf(target)).toEqual(['2024-12-29 u2 5']);
  });
});

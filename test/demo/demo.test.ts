import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm start` end to end, on a small population: generate → ingest → backfill `daily` →
 * summary, on the embedded defaults; a re-run skips the ingested files and prints the same numbers.
 */
const root = path.resolve(import.meta.dirname, '../..');
const tsxLoader = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-demo-'));

function demo(): { code: number; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GAMEPIPE_CONN_')));
  const r = spawnSync(process.execPath, ['--import', tsxLoader, path.join(root, 'src/demo/main.ts'), '--players', '300', '--days', '4'], {
    cwd: os.tmpdir(),
    env: { ...env, GAMEPIPE_HOME: home, GAMEPIPE_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The summary part of the output (what must not change on a re-run). */
const summary = (stdout: string) => stdout.slice(stdout.indexOf('Data quality'), stdout.indexOf('\nDone in'));

describe('npm start (the demo)', () => {
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('generates, ingests, backfills daily and prints the KPI summary; a re-run gives the same numbers', () => {
    const first = demo();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/1\. generated [\d,]+ events of 300 players over 4 days/);
    expect(first.stdout).toMatch(/2\. ingested 4 files: [\d,]+ events in bronze/);
    expect(first.stdout).toMatch(/(\d+) of \1 jobs succeeded/);
    expect(first.stdout).toMatch(/Data quality 2024-12-01 … 2024-12-04: [\d,]+ bronze events = .* \(reconciled\)/);
    for (const table of ['kpi_daily', 'retention_cohorts', 'cumulative_revenue', 'farmers_snapshot']) {
      expect(first.stdout).toContain(`WAREHOUSE.${table}`);
    }
    expect(first.stdout).toContain("'2024-12-04'");

    const second = demo();
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('2. bronze: all 4 files already ingested (same content), skipped');
    expect(summary(second.stdout)).toBe(summary(first.stdout));
  }, 600_000);
});

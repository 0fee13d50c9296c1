import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, backend, type Workspace } from '../helpers/workspace.js';
import { randomLevelEvents, writeSilverRows, INSTALL_INGESTIONS, randomInstalls, writeInstallIndex } from './helpers/silverFixture.js';
import { dateRange } from '../../src/core/dates.js';

/** `gamepipe funnel games|aggregate|backfill|query`, run as a process. */

const root = path.resolve(import.meta.dirname, '../..');
const tsxLoader = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;

describe(`gamepipe funnel (${backend})`, () => {
  let ws: Workspace;
  let days: string[];

  // Asynchronous, so the test worker stays responsive while the command runs.
  const funnel = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', tsxLoader, path.join(root, 'src/cli/main.ts'), 'funnel', ...args], {
        cwd: ws.dir,
        env: { ...process.env, ...ws.env, GAMEPIPE_LOG_LEVEL: 'warn' },
        timeout: 300_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    days = await writeSilverRows(ws.paths.lake, randomLevelEvents(8, { days: dateRange('2024-08-01', '2024-08-02'), events: 200 }));
    await writeInstallIndex(ws.paths.lake, randomInstalls(8, { days }), [...INSTALL_INGESTIONS.committed]);
    // the CLI opens the embedded database itself: this process must not hold it
    await ws.connections.closeAll();
  });
  afterAll(async () => ws?.close());

  it('games lists the games with level events', async () => {
    const r = await funnel('games', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).map((g: { gameId: string }) => g.gameId).sort()).toEqual(['g1', 'other_game']);
  });

  it('aggregate one day, then backfill the range over it', async () => {
    const one = await funnel('aggregate', '--game', 'g1', '--date', days[0]!);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/✔ g1: 1\/1 days, [\d,]+ level_metrics_daily rows; index rebuilt/);
    const all = await funnel('backfill', '--from', days[0]!, '--to', days[days.length - 1]!);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`✔ g1: ${days.length}/${days.length} days`));
    expect(all.stdout).toMatch(/✔ other_game:/);
  });

  it('query prints a table, and --json the API answer; fast equals raw', async () => {
    const human = await funnel('query', '--game', 'g1', '--from', days[0]!, '--to', days[days.length - 1]!, '--platform', 'ios,android');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/g1 .* platform=ios,android \(fast, [\d.]+ ms\)/);
    expect(human.stdout).toMatch(/level\s+starts\s+completes/);
    const args = ['query', '--game', 'g1', '--from', days[0]!, '--to', days[days.length - 1]!, '--country', 'us,TR', '--level-funnel-version', '1,2', '--json'];
    const fast = JSON.parse((await funnel(...args)).stdout);
    const raw = JSON.parse((await funnel(...args, '--method', 'raw')).stdout);
    expect(fast.method).toBe('fast');
    expect(raw.method).toBe('raw');
    expect(fast.levels.length).toBeGreaterThan(0);
    expect(fast.levels).toEqual(raw.levels);
  });

  it('query takes funnel pairs and an install cohort; fast equals raw; a bad one names the option', async () => {
    const args = ['query', '--game', 'g1', '--from', days[0]!, '--to', days[days.length - 1]!, '--funnel', 'live_v1:1,test_hard:2',
      '--install-from', days[0]!, '--json'];
    const fast = JSON.parse((await funnel(...args)).stdout);
    const raw = JSON.parse((await funnel(...args, '--method', 'raw')).stdout);
    expect(fast.install).toEqual({ from: days[0] });
    expect(fast.levels.length).toBeGreaterThan(0);
    expect(fast.levels).toEqual(raw.levels);
    const bad = await funnel('query', '--game', 'g1', '--from', days[0]!, '--to', days[0]!, '--install-to', 'soon', '--funnel', 'live_v1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--install-to: "soon" is not a calendar date YYYY-MM-DD; --funnel: "live_v1" is not a levelFunnel:version pair/);
  });

  it('bad input exits 1 with the reason', async () => {
    const [badDate, unknownOption, noSilver, notAggregated] = await Promise.all([
      funnel('query', '--game', 'g1', '--from', '2024-02-30', '--to', '2024-03-01', '--method', 'slow'),
      funnel('query', '--game', 'g1', '--from', days[0]!, '--to', days[0]!, '--platforms', 'ios'),
      funnel('aggregate', '--game', 'g1', '--date', '2031-01-01'),
      funnel('query', '--game', 'never', '--from', days[0]!, '--to', days[0]!),
    ]);
    expect(badDate.code).toBe(1);
    expect(badDate.stderr).toMatch(/from: "2024-02-30" is not a calendar date YYYY-MM-DD; method: "slow" is not one of fast, raw/);
    expect(unknownOption.code).toBe(1);
    expect(unknownOption.stderr).toMatch(/unknown option '--platforms'/);
    expect(noSilver.code).toBe(1);
    expect(noSilver.stderr).toMatch(/no silver events for 2031-01-01/);
    expect(notAggregated.code).toBe(1);
    expect(notAggregated.stderr).toMatch(/no level funnel aggregates for game never\n\s+expected: gamepipe funnel backfill --game never/);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, backend, type Workspace } from '../helpers/workspace.js';
import { aggregateLevelFunnel, listGamesWithLevelEvents } from '../../src/funnel/aggregate.js';

import { levelFunnelIndexDir, levelPlayersDir } from '../../src/funnel/paths.js';
import { LevelFunnelService } from '../../src/funnel/service.js';
import { randomLevelEvents, writeSilverRows } from './helpers/silverFixture.js';
import { dateRange } from '../../src/core/dates.js';

/** The aggregation: what it writes where, idempotence, atomic replacement, and that silver is only read. */

const DAYS = dateRange('2024-06-01', '2024-06-03');

function snapshot(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const full = path.join(e.parentPath, e.name);
      out[path.relative(dir, full)] = fs.statSync(full).mtimeMs;
    }
  }
  return out;
}

describe(`level funnel aggregation (${backend})`, () => {
  let ws: Workspace;
  let days: string[];
  const ctx = () => ({ paths: ws.paths, connections: ws.connections });
  const table = () => ws.query<Record<string, unknown>>(
    `SELECT game_id, to_char(date, 'YYYY-MM-DD') AS date, level_id, level_funnel, level_funnel_version, platform, country_code, app_version,
            starts, completes, fails, started_players, completed_players, booster_events, egp_events,
            completion_duration_us, completions_with_duration, fail_duration_us, fails_with_duration
     FROM level_metrics_daily ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`,
  );

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    days = await writeSilverRows(ws.paths.lake, randomLevelEvents(5, { days: DAYS, events: 300 }));
  });
  afterAll(async () => ws?.close());

  it('lists the games with valid level events', async () => {
    const games = await listGamesWithLevelEvents(ws.paths);
    expect(games.map((g) => g.gameId).sort()).toEqual(['g1', 'other_game']);
    expect(games.find((g) => g.gameId === 'g1')).toMatchObject({ firstDay: days[0], lastDay: days[days.length - 1] });
    expect(await listGamesWithLevelEvents(ws.paths, ['1999-01-01'])).toEqual([]);
  });

  it('writes per-player rows to the lake and counts without user ids to level_metrics_daily', async () => {
    const silverBefore = snapshot(path.join(ws.paths.lake, 'silver'));
    const result = await aggregateLevelFunnel(ctx(), { dates: days });
    expect(result.ok).toBe(true);
    expect(result.games.sort()).toEqual(['g1', 'other_game']);
    for (const d of days) expect(fs.existsSync(path.join(levelPlayersDir(ws.paths, 'g1'), `ds=${d}`))).toBe(true);
    expect(fs.existsSync(levelFunnelIndexDir(ws.paths, 'g1'))).toBe(true);
    // the original events are never touched
    expect(snapshot(path.join(ws.paths.lake, 'silver'))).toEqual(silverBefore);

    const columns = await ws.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'level_metrics_daily' AND table_schema = current_schema()`,
    );
    expect(columns.map((c) => c.column_name)).not.toContain('user_id');
    const indexes = await ws.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = 'level_metrics_daily' AND schemaname = current_schema()`);
    const defs = indexes.map((i) => i.indexdef).join('\n');
    expect(defs).toMatch(/UNIQUE INDEX .*\(game_id, date, level_id, level_funnel, level_funnel_version, platform, country_code, app_version\) NULLS NOT DISTINCT/);
    for (const col of ['platform', 'country_code', 'app_version', 'level_funnel']) expect(defs).toContain(`lower(${col})`);

    // level_metrics_daily sums agree with the raw path over each single day
    const service = await LevelFunnelService.open(ws.paths, { threads: 1 });
    try {
      for (const d of days) {
        const raw = await service.rawBases({ gameId: 'g1', from: d, to: d, filters: {} });
        const sums = await ws.query<{ level_id: number; starts: string; completes: string; fails: string; booster_events: string; egp_events: string }>(
          `SELECT level_id, sum(starts) AS starts, sum(completes) AS completes, sum(fails) AS fails, sum(booster_events) AS booster_events, sum(egp_events) AS egp_events
           FROM level_metrics_daily WHERE game_id = 'g1' AND date = '${d}' GROUP BY level_id ORDER BY level_id`,
        );
        expect(sums.map((s) => [s.level_id, Number(s.starts), Number(s.completes), Number(s.fails), Number(s.booster_events), Number(s.egp_events)]))
          .toEqual(raw.bases.map((b) => [b.levelId, b.starts, b.completes, b.fails, b.boosterEvents, b.egpEvents]));
      }
    } finally {
      await service.close();
    }
  });

  it('re-running a day or the whole range gives the same rows (deleteInsert per game and day)', async () => {
    const before = await table();
    expect(before.length).toBeGreaterThan(0);
    const again = await aggregateLevelFunnel(ctx(), { games: ['g1'], dates: [days[1]!] });
    expect(again.ok).toBe(true);
    expect(await table()).toEqual(before);
    const all = await aggregateLevelFunnel(ctx(), { dates: days });
    expect(all.ok).toBe(true);
    expect(await table()).toEqual(before);
  });

  it('re-aggregating a day after its silver changed replaces only that game and day; a running service follows', async () => {
    const before = await table();
    const day = days[0]!;
    const q = { gameId: 'g1', from: days[0]!, to: days[days.length - 1]!, filters: {} };
    // a service already serving the old snapshot from memory, as the API would be
    const service = await LevelFunnelService.open(ws.paths, { threads: 1 });
    try {
      const old = await service.fastBases(q);
      expect((await service.indexes.ready('g1'))!.storage).toBe('memory');
      expect((await service.fastBases(q)).bases).toEqual(old.bases);

      // silver for the first day is rebuilt with g1's events gone (other_game stays)
      const rows = randomLevelEvents(5, { days: DAYS, events: 300 })
        .filter((r) => new Date(r.event_ts).toISOString().startsWith(day) && r.game_id !== 'g1');
      await writeSilverRows(ws.paths.lake, rows);
      // without --game: g1 has no level events that day any more, but was aggregated for it before
      const result = await aggregateLevelFunnel(ctx(), { dates: [day] });
      expect(result.ok).toBe(true);
      expect(result.games.sort()).toEqual(['g1', 'other_game']);
      const after = await table();
      expect(after.filter((r) => r.game_id === 'g1' && r.date === day)).toEqual([]);
      expect(after.filter((r) => !(r.game_id === 'g1' && r.date === day))).toEqual(before.filter((r) => !(r.game_id === 'g1' && r.date === day)));

      // the next question sees the new snapshot at once (from Parquet, then from memory)
      const raw = await service.rawBases(q);
      expect(raw.bases).not.toEqual(old.bases);
      expect((await service.fastBases(q)).bases).toEqual(raw.bases);
      expect((await service.indexes.ready('g1'))!.storage).toBe('memory');
      expect((await service.fastBases(q)).bases).toEqual(raw.bases);
    } finally {
      await service.close();
    }
  });

  it('names a day without silver before running anything', async () => {
    await expect(aggregateLevelFunnel(ctx(), { games: ['g1'], dates: ['2030-01-01'] })).rejects.toThrow(/no silver events for 2030-01-01/);
  });

  it('records every job in the run log', async () => {
    const runs = await ws.query<{ job: string; status: string }>(`SELECT job, status FROM etl_run_log WHERE pipeline = 'funnel'`);
    expect(new Set(runs.map((r) => r.job))).toEqual(new Set(['level_players', 'level_metrics_daily', 'level_funnel_index']));
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
  });
});

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, backend, type Workspace } from '../helpers/workspace.js';
import { writeGenerated } from '../../src/events/generator/index.js';
import { aggregateLevelFunnel, listGamesWithLevelEvents } from '../../src/funnel/aggregate.js';
import type { FunnelFilters } from '../../src/funnel/params.js';
import { LevelFunnelService } from '../../src/funnel/service.js';
import { ingestFiles } from '../../src/ingest/index.js';
import { buildSilverDay } from '../../src/quality/silver.js';

/**
 * The whole way: the event generator (with defects) → ingest → silver → level funnel, and fast
 * equals raw on what the real silver job produces (normalized platforms, flagged duplicates and
 * invalid rows, late events).
 */
describe(`level funnel over the real silver layer (${backend})`, () => {
  let ws: Workspace;
  let service: LevelFunnelService;
  const days = ['2024-05-01', '2024-05-02', '2024-05-03'];

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    const generated = await writeGenerated({
      games: 2, users: 400, days: days.length, start: days[0]!, seed: 17, dirtyRate: 0.03, out: path.join(ws.dir, 'raw'), format: 'ndjson',
    });
    await ingestFiles(generated.files.map((f) => path.join(generated.out, f)), ws.paths, {});
    for (const d of days) await buildSilverDay(d, { paths: ws.paths, connections: ws.connections });
    const result = await aggregateLevelFunnel({ paths: ws.paths, connections: ws.connections }, { dates: days });
    expect(result.ok).toBe(true);
    service = await LevelFunnelService.open(ws.paths, { threads: 2 });
  });

  afterAll(async () => {
    await service?.close();
    await ws?.close();
  });

  it('finds the generated games', async () => {
    expect((await listGamesWithLevelEvents(ws.paths, days)).map((g) => g.gameId).sort()).toEqual(['game_1', 'game_2']);
  });

  it.each<[string, FunnelFilters]>([
    ['no filter', {}],
    ['platform', { platform: ['ios'] }],
    ['country', { country: ['us', 'tr', 'br'] }],
    ['app version', { appVersion: ['1.0.0'] }],
    ['funnel and version', { levelFunnel: ['live_v1', 'test_hard'], levelFunnelVersion: ['1', '2'] }],
    ['all five', { platform: ['ios', 'android'], country: ['us', 'tr', 'br', 'de'], appVersion: ['1.0.0'], levelFunnel: ['live_v1'], levelFunnelVersion: ['1'] }],
  ])('fast == raw: %s', async (_name, filters) => {
    for (const [from, to] of [[days[0]!, days[2]!], [days[1]!, days[1]!], [days[1]!, days[2]!]] as const) {
      for (const gameId of ['game_1', 'game_2']) {
        const q = { gameId, from, to, filters };
        const [fast, raw] = await Promise.all([service.query(q, 'fast'), service.query(q, 'raw')]);
        expect(fast.levels, JSON.stringify(q)).toEqual(raw.levels);
      }
    }
    const all = await service.query({ gameId: 'game_1', from: days[0]!, to: days[2]!, filters }, 'raw');
    expect(all.levels.length).toBeGreaterThan(0);
  });
});

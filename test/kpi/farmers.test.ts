import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGenerated, type Manifest } from '../../src/events/generator/index.js';
import { ingestFiles } from '../../src/ingest/index.js';
import { evaluateFarmerDetection, farmersFromManifest, formatFarmerAccuracy } from '../../bench/lib/farmerAccuracy.js';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';
import { dailyPipeline } from './helpers/dailyRun.js';

/**
 * The whole daily pipeline, silver included, on generated events (raw NDJSON → ingest → bronze →
 * silver → gold), and bot-farmer detection measured against the generator's ground truth.
 */
describe(`daily pipeline end to end on generated events (${backend})`, () => {
  let ws: Workspace;
  let manifest: Manifest;
  const day = '2024-05-01';

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    // 2,000 accounts on one day: two farms of 5–20 accounts among them, 1% of events defective.
    const generated = await writeGenerated({ games: 2, users: 2000, days: 1, start: day, seed: 7, dirtyRate: 0.01, out: path.join(ws.dir, 'raw'), format: 'ndjson' });
    manifest = generated.manifest;
    await ingestFiles(generated.files.map((f) => path.resolve(generated.out, f)), ws.paths);
  });
  afterAll(() => ws.close());

  it('builds silver first, then every table; detects the farms with full precision and recall', async () => {
    const result = await runPipeline(dailyPipeline(), { paths: ws.paths, connections: ws.connections }, { varSets: [{ logDate: day }] });
    expect(result.tasks.filter((t) => t.status !== 'succeeded').map((t) => `${t.job}: ${t.error}`)).toEqual([]);
    expect(result.tasks[0]!.job).toBe('silver_events');

    // DAU equals the generator's count of active accounts (defects only remove events, never a whole user here).
    const [kpi] = await ws.query<{ dau: number }>(`SELECT sum(dau)::int AS dau FROM kpi_daily WHERE ds = '${day}'`);
    expect(kpi!.dau).toBe(manifest.files[0]!.truth.activeUsers);

    const detected = await ws.query<{ game_id: string; user_id: string }>('SELECT game_id, user_id FROM farmers_snapshot');
    const active = await ws.query<{ game_id: string; user_id: string }>(`SELECT game_id, user_id FROM active_users WHERE ds = '${day}'`);
    const accuracy = evaluateFarmerDetection({
      detected: detected.map((r) => ({ gameId: r.game_id, userId: r.user_id })),
      truth: farmersFromManifest(manifest),
      eligible: active.map((r) => ({ gameId: r.game_id, userId: r.user_id })),
    });
    console.log(`bot farmers (${manifest.population.botFarmers.clusters.length} farms): ${formatFarmerAccuracy(accuracy)}`);
    expect(accuracy.truth).toBe(manifest.population.botFarmers.accounts);
    expect(accuracy.precision).toBe(1);
    expect(accuracy.recall).toBe(1);
  });
});

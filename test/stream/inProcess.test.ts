import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcessStream, type InProcessResult } from '../../src/stream/inProcess.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';
import { batchReference, deadLetterSources, readRealtimeTables, sortedEntries, type BatchReference, type RealtimeTables } from './helpers/reference.js';

/**
 * `gamepipe stream` without Kafka: the same services on the in-process broker. Always runs
 * (no Kafka needed); the Kafka suites prove the same equalities on a real broker.
 */
describe(`stream in-process: generator → quality → aggregate (${backend})`, () => {
  let ws: Workspace;
  let run: InProcessResult;
  let rt: RealtimeTables;
  let ref: BatchReference;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    run = await runInProcessStream({
      warehouse: ws.connections.get('WAREHOUSE'),
      generate: { games: 2, users: 120, days: 2, start: '2024-05-01', seed: 5, dirtyRate: 0.03 },
      partitions: 3,
      maxBatch: 400,
    });
    rt = await readRealtimeTables(ws);
    ref = await batchReference(ws, run.broker.records('events-raw'), rt.lateIds);
  }, 240_000);
  afterAll(async () => {
    await ws?.close();
  });

  it('accounts for every raw record: valid + invalid + duplicates', () => {
    const q = run.quality;
    expect(q.consumed).toBe(run.produced.events);
    expect(q.valid + q.invalid + q.duplicates).toBe(q.consumed);
    expect(q.invalid).toBeGreaterThan(0);
    expect(q.duplicates).toBeGreaterThan(0);
    expect(run.broker.records('events-enriched')).toHaveLength(q.valid);
    expect(run.aggregate.applied).toBe(q.valid);
  });

  it('per-minute KPIs equal a batch SQL computation over silver built from the same events', () => {
    expect(rt.kpis.size).toBeGreaterThan(100);
    expect(sortedEntries(rt.kpis)).toEqual(sortedEntries(ref.kpis));
    expect(sortedEntries(rt.byCountry)).toEqual(sortedEntries(ref.byCountry));
    const totals = [...rt.kpis.values()].reduce((a, k) => ({ purchases: a.purchases + k.purchases, matches: a.matches + k.matches }), {
      purchases: 0,
      matches: 0,
    });
    expect(totals.purchases).toBeGreaterThan(0);
    expect(totals.matches).toBeGreaterThan(0);
  });

  it('the DLQ holds exactly the events the batch pipeline finds invalid, each once', () => {
    const dlq = deadLetterSources(run.broker.records('events-dlq'));
    expect(dlq.records).toBe(dlq.sources.size);
    expect([...dlq.sources].sort()).toEqual([...ref.invalid].sort());
    for (const letter of dlq.letters) expect(letter.reasons.length).toBeGreaterThan(0);
  });

  it('late events are kept and counted, not dropped: counted + late = valid', () => {
    expect(rt.lateIds.size).toBeGreaterThan(0);
    for (const id of rt.lateIds) expect(ref.validIds.has(id)).toBe(true);
    expect(run.aggregate.counted + run.aggregate.late).toBe(ref.validEvents);
  });
});

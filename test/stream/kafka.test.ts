import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokers } from '../../src/stream/config.js';
import { produceGenerated } from '../../src/stream/generate.js';
import { generateToKafkaCommandAction } from '../../src/cli/commands/streamActions.js';
import { KafkaTransport } from '../../src/stream/kafka.js';
import { startAggregateService, startQualityService, type ServiceHandle } from '../../src/stream/services.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';
import { drained, kafkaBrokers, readTopic, uniqueNames, waitFor } from './helpers/kafka.js';
import { batchReference, deadLetterSources, readRealtimeTables, sortedEntries } from './helpers/reference.js';

/**
 * The stream on a real Kafka broker (GAMEPIPE_TEST_KAFKA_BROKERS, provisioned by
 * scripts/ci/start-kafka.sh in CI; skipped when unset). The services run in this process here;
 * kafkaCrash.test.ts runs them as child processes and kills them.
 */
describe.skipIf(!kafkaBrokers)(`stream on real Kafka (${backend})`, () => {
  let transport: KafkaTransport;
  const workspaces: Workspace[] = [];

  beforeAll(() => {
    transport = new KafkaTransport(parseBrokers(kafkaBrokers!));
  });
  afterAll(async () => {
    await transport?.close();
    for (const ws of workspaces) await ws.close();
  });

  async function workspace(): Promise<Workspace> {
    const ws = await createWorkspace(['WAREHOUSE']);
    workspaces.push(ws);
    return ws;
  }

  /** rt_* = batch SQL over silver of the same raw records (minus the late ones); DLQ = batch's invalid. */
  async function expectExact(ws: Workspace, names: ReturnType<typeof uniqueNames>) {
    const raw = await readTopic(transport, names.topics.raw);
    const rt = await readRealtimeTables(ws);
    const ref = await batchReference(ws, raw, rt.lateIds);
    expect(rt.kpis.size).toBeGreaterThan(50);
    expect(sortedEntries(rt.kpis)).toEqual(sortedEntries(ref.kpis));
    expect(sortedEntries(rt.byCountry)).toEqual(sortedEntries(ref.byCountry));
    const dlq = deadLetterSources(await readTopic(transport, names.topics.dlq));
    expect([...dlq.sources].sort()).toEqual([...ref.invalid].sort());
    for (const id of rt.lateIds) expect(ref.validIds.has(id)).toBe(true);
    const counted = [...rt.kpis.values()].reduce((a, k) => a + k.events, 0);
    expect(counted + rt.lateIds.size).toBe(ref.validEvents);
    return { raw, rt, ref, dlq };
  }

  it('generate --to kafka:// → quality → aggregate: rt_* equal a batch SQL computation, the DLQ holds exactly the invalid events', async () => {
    const ws = await workspace();
    const warehouse = ws.connections.get('WAREHOUSE');
    const names = uniqueNames('e2e');
    await transport.ensureTopics([
      { name: names.topics.raw, partitions: 3 },
      { name: names.topics.enriched, partitions: 3 },
      { name: names.topics.dlq, partitions: 1 },
    ]);
    const printed: string[] = [];
    const produced = await generateToKafkaCommandAction(
      { to: `kafka://${kafkaBrokers}/${names.topics.raw}`, games: 2, users: 100, days: 2, start: '2024-05-01', seed: 21, dirty: '0.03' },
      (line) => printed.push(line),
    );
    expect(printed[0]).toMatch(new RegExp(`^produced ${produced.events.toLocaleString('en-US')} events \\(2 day\\(s\\)\\) to kafka://.*/${names.topics.raw} keyed by userId`));

    const quality = await startQualityService({ transport, warehouse, topics: names.topics, groupId: names.groups.quality, maxWaitMs: 200 });
    const aggregate = await startAggregateService({ transport, warehouse, topic: names.topics.enriched, groupId: names.groups.aggregate, maxWaitMs: 200 });
    try {
      await waitFor('the stream to drain', () => drained(transport, warehouse, names), 150_000);
    } finally {
      await Promise.all([quality.stop(), aggregate.stop()]);
    }
    const { raw, dlq, rt } = await expectExact(ws, names);
    expect(raw).toHaveLength(produced.events);
    expect(quality.stats.consumed).toBe(produced.events);
    expect(quality.stats.valid + quality.stats.invalid + quality.stats.duplicates).toBe(produced.events);
    expect(dlq.records).toBe(quality.stats.invalid);
    expect(quality.stats.duplicates).toBeGreaterThan(0);
    expect(rt.lateIds.size).toBe(aggregate.stats.late);
    // Keyed by userId: every user's events are on one partition.
    const partitionOf = new Map<string, number>();
    for (const r of raw) {
      const key = r.key?.toString();
      if (!key) continue;
      expect(partitionOf.get(key) ?? r.partition).toBe(r.partition);
      partitionOf.set(key, r.partition);
    }
  }, 240_000);

  it('two instances of each service share the partitions of one consumer group, and the totals stay exact', async () => {
    const ws = await workspace();
    const warehouse = ws.connections.get('WAREHOUSE');
    const names = uniqueNames('scale');
    await transport.ensureTopics([
      { name: names.topics.raw, partitions: 4 },
      { name: names.topics.enriched, partitions: 4 },
      { name: names.topics.dlq, partitions: 1 },
    ]);
    const common = { transport, warehouse, maxWaitMs: 200, sessionTimeoutMs: 6000 };
    const qualities: Array<ServiceHandle<{ assigned: number[]; consumed: number }>> = [];
    const aggregates: Array<ServiceHandle<{ assigned: number[]; applied: number }>> = [];
    let qualitySplit: number[] = [];
    let aggregateSplit: number[] = [];
    try {
      for (const i of [1, 2]) {
        qualities.push(await startQualityService({ ...common, topics: names.topics, groupId: names.groups.quality, clientId: `quality-${i}` }));
        aggregates.push(await startAggregateService({ ...common, topic: names.topics.enriched, groupId: names.groups.aggregate, clientId: `aggregate-${i}` }));
      }
      // Both members of each group own partitions before any event is produced.
      const split = (hs: Array<ServiceHandle<{ assigned: number[] }>>) =>
        hs.every((h) => h.stats.assigned.length > 0) && new Set(hs.flatMap((h) => h.stats.assigned)).size === 4 && hs[0]!.stats.assigned.length + hs[1]!.stats.assigned.length === 4;
      await waitFor('both group members to own partitions', async () => split(qualities) && split(aggregates), 60_000);

      const producer = await transport.producer({ clientId: 'test-generate' });
      try {
        await produceGenerated({
          producer,
          topic: names.topics.raw,
          generate: { games: 2, users: 100, days: 2, start: '2024-06-01', seed: 33, dirtyRate: 0.03 },
        });
      } finally {
        await producer.close();
      }
      await waitFor('the stream to drain', () => drained(transport, warehouse, names), 150_000);
      // The groups' split, before stopping (a member leaving makes the other take everything).
      qualitySplit = qualities.flatMap((h) => h.stats.assigned).sort();
      aggregateSplit = aggregates.flatMap((h) => h.stats.assigned).sort();
    } finally {
      await Promise.all([...qualities, ...aggregates].map((h) => h.stop()));
    }
    // Both members of each group did part of the work …
    for (const h of qualities) expect(h.stats.consumed).toBeGreaterThan(0);
    for (const h of aggregates) expect(h.stats.applied).toBeGreaterThan(0);
    // … on partitions the group split between them …
    expect(qualitySplit).toEqual([0, 1, 2, 3]);
    expect(aggregateSplit).toEqual([0, 1, 2, 3]);
    // … and together applied every enriched record exactly once (a record re-read after a
    // rebalance would be skipped as replayed, not applied twice).
    const enriched = await readTopic(transport, names.topics.enriched);
    expect(aggregates.reduce((a, h) => a + h.stats.applied, 0)).toBe(enriched.length);
    await expectExact(ws, names);
  }, 240_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokers } from '../../src/stream/config.js';
import { produceGenerated } from '../../src/stream/generate.js';
import { CRASH_AFTER_BATCH_ENV } from '../../src/cli/commands/streamActions.js';
import { KafkaTransport } from '../../src/stream/kafka.js';
import { createWorkspace, serverUrl, type Workspace } from '../helpers/workspace.js';
import { appliedOffsets, drained, kafkaBrokers, readTopic, spawnStream, sum, uniqueNames, waitFor, type Child } from './helpers/kafka.js';
import { batchReference, deadLetterSources, readRealtimeTables, sortedEntries } from './helpers/reference.js';

/**
 * kill -9 of each stream service mid-stream, then a restart: the totals are still exact. Each
 * service is killed twice: once from outside at an arbitrary point, once by itself at the worst
 * point (its batch durable, its Kafka offsets not yet committed).
 * The services run as child processes (`gamepipe stream quality|aggregate`), sharing the
 * PostgreSQL server with this test, so this needs both GAMEPIPE_TEST_KAFKA_BROKERS and
 * GAMEPIPE_TEST_DATABASE_URL (the embedded PGlite is single-process).
 */
/** A value read until it stays the same for half a second (requests in flight at a kill land or die). */
async function settled(read: () => Promise<bigint>): Promise<bigint> {
  let last = await read();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = await read();
    if (now === last) return now;
    last = now;
  }
}

describe.skipIf(!kafkaBrokers || !serverUrl)('stream on real Kafka: kill -9 and restart (postgres server)', () => {
  let transport: KafkaTransport;
  let ws: Workspace;
  const children: Child[] = [];

  beforeAll(async () => {
    transport = new KafkaTransport(parseBrokers(kafkaBrokers!));
    ws = await createWorkspace(['WAREHOUSE']);
  });
  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    await transport?.close();
    await ws?.close();
  });

  it('neither loses nor double counts after SIGKILLs of the quality service and of the aggregator', async () => {
    const warehouse = ws.connections.get('WAREHOUSE');
    const names = uniqueNames('crash');
    await transport.ensureTopics([
      { name: names.topics.raw, partitions: 4 },
      { name: names.topics.enriched, partitions: 4 },
      { name: names.topics.dlq, partitions: 1 },
    ]);
    const producer = await transport.producer({ clientId: 'test-generate' });
    const produced = await produceGenerated({
      producer,
      topic: names.topics.raw,
      generate: { games: 2, users: 120, days: 2, start: '2024-07-01', seed: 44, dirtyRate: 0.03 },
    }).finally(() => producer.close());
    const total = BigInt(produced.events);

    // Small batches (many commits); static membership, so a restarted instance takes its
    // partitions back at once instead of waiting for the dead one's session to expire.
    const common = ['--brokers', kafkaBrokers!, '--max-batch', '40', '--session-timeout', '6s'];
    const qualityArgs = ['quality', ...common, '--instance-id', 'quality-1', '--group', names.groups.quality, '--input', names.topics.raw, '--output', names.topics.enriched, '--dlq', names.topics.dlq];
    const aggregateArgs = ['aggregate', ...common, '--instance-id', 'aggregate-1', '--group', names.groups.aggregate, '--input', names.topics.enriched];
    const start = (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const c = spawnStream(args, { cwd: ws.dir, env: { ...ws.env, ...env } });
      children.push(c);
      return c;
    };
    /** Dies by itself (SIGKILL) after its N-th batch is durable, before the batch's Kafka commit. */
    const crashAfter = (batches: number) => ({ [CRASH_AFTER_BATCH_ENV]: String(batches) });
    const logs = () => children.map((c, i) => `--- child ${i + 1} (${c.process.spawnargs.slice(4, 6).join(' ')}):\n${c.output()}`).join('\n');
    const outputs = async () => sum(await transport.endOffsets(names.topics.enriched)) + sum(await transport.endOffsets(names.topics.dlq));
    // Read once requests in flight at a kill have landed (or died with it).
    const qualityCommitted = () =>
      settled(async () => sum((await transport.committedOffsets(names.groups.quality, names.topics.raw)).map((o) => (o < 0n ? 0n : o))));
    const applied = () => settled(async () => sum([...(await appliedOffsets(warehouse, names.groups.aggregate, names.topics.enriched)).values()]));
    const aggregateKafkaCommitted = () =>
      settled(async () => sum((await transport.committedOffsets(names.groups.aggregate, names.topics.enriched)).map((o) => (o < 0n ? 0n : o))));

    // 1. Quality, kill -9 from outside after about a quarter of the raw events went through.
    const quality1 = start(qualityArgs);
    await waitFor('quality to process a quarter of the events', async () => (await outputs()) >= total / 4n, 120_000, 20, logs);
    quality1.process.kill('SIGKILL');
    expect(await quality1.exited).toBe('SIGKILL');
    expect(await outputs()).toBeLessThan(total);

    // 2. The aggregator starts on what is there; quality restarts and dies (SIGKILL) right after
    //    producing its 8th batch, before committing it: those outputs will be produced again.
    const aggregate1 = start(aggregateArgs);
    const quality2 = start(qualityArgs, crashAfter(8));
    expect(await quality2.exited, quality2.output()).toBe('SIGKILL');
    const committedAfterQuality2 = await qualityCommitted();
    expect(committedAfterQuality2).toBeLessThan(total);
    const quality3 = start([...qualityArgs, '--json']);

    // 3. The aggregator, kill -9 from outside once it applied a fifth of the events; restarted, it
    //    dies by itself right after committing its 10th batch to PostgreSQL, before Kafka's commit.
    await waitFor('the aggregator to apply a fifth of the events', async () => (await applied()) >= total / 5n, 120_000, 20, logs);
    aggregate1.process.kill('SIGKILL');
    expect(await aggregate1.exited).toBe('SIGKILL');
    const aggregate2 = start(aggregateArgs, crashAfter(10));
    expect(await aggregate2.exited, aggregate2.output()).toBe('SIGKILL');
    const appliedAfterAggregate2 = await applied();
    // The dangerous window happened: the totals are committed further than Kafka's offsets.
    expect(await aggregateKafkaCommitted()).toBeLessThan(appliedAfterAggregate2);
    const aggregate3 = start([...aggregateArgs, '--json']);

    // 4. The last instances drain the stream; then they are stopped cleanly.
    await waitFor('the stream to drain', () => drained(transport, warehouse, names), 180_000, 200, logs);
    quality3.process.kill('SIGTERM');
    aggregate3.process.kill('SIGTERM');
    expect(await quality3.exited, quality3.output()).toBe(0);
    expect(await aggregate3.exited, aggregate3.output()).toBe(0);
    const q3 = JSON.parse(quality3.stdout()) as { consumed: number };
    const a3 = JSON.parse(aggregate3.stdout()) as { applied: number; replayed: number };
    const enriched = await readTopic(transport, names.topics.enriched);
    const enrichedEnd = BigInt(enriched.length);
    // Each restart resumed where the durable state said: quality from its committed offsets …
    expect(BigInt(q3.consumed)).toBe(total - committedAfterQuality2);
    // … so the batch produced but not committed went out twice (at-least-once) …
    const enrichedIds = new Set(enriched.map((r) => (JSON.parse(r.value!.toString()) as { eventId: string }).eventId));
    expect(enrichedIds.size).toBeLessThan(enriched.length);
    // … and the aggregator from rt_offsets: it re-read the records Kafka had not seen committed,
    // skipped them, and applied each of the others exactly once.
    expect(a3.replayed).toBeGreaterThan(0);
    expect(BigInt(a3.applied)).toBe(enrichedEnd - appliedAfterAggregate2);

    // 5. Exact: rt_* = batch SQL over silver of the same raw events; the DLQ covers exactly the invalid ones.
    const raw = await readTopic(transport, names.topics.raw);
    expect(raw).toHaveLength(produced.events);
    const rt = await readRealtimeTables(ws);
    const ref = await batchReference(ws, raw, rt.lateIds);
    expect(sortedEntries(rt.kpis)).toEqual(sortedEntries(ref.kpis));
    expect(sortedEntries(rt.byCountry)).toEqual(sortedEntries(ref.byCountry));
    const dlq = deadLetterSources(await readTopic(transport, names.topics.dlq));
    expect([...dlq.sources].sort()).toEqual([...ref.invalid].sort());
    // Re-sent dead letters repeat a source offset; they are the only extras.
    expect(dlq.records).toBeGreaterThanOrEqual(dlq.sources.size);
    const counted = [...rt.kpis.values()].reduce((a, k) => a + k.events, 0);
    expect(counted + rt.lateIds.size).toBe(ref.validEvents);
    expect(enrichedIds.size).toBe(ref.validEvents);
    console.log(
      `kill -9 figures: ${total} raw events; quality killed twice, last restart resumed at committed offset sum ` +
        `${committedAfterQuality2} and consumed ${q3.consumed}; ${enriched.length} enriched records for ${enrichedIds.size} valid events ` +
        `(re-sent: ${enriched.length - enrichedIds.size}); DLQ ${dlq.records} records for ${dlq.sources.size} invalid events; aggregator killed twice, ` +
        `${appliedAfterAggregate2} records durable, last restart skipped ${a3.replayed} replayed and applied ${a3.applied}; ` +
        `${counted} events counted in ${rt.kpis.size} minute rows, ${rt.lateIds.size} late`,
    );
  }, 420_000);
});

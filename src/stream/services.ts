import { randomUUID } from 'node:crypto';
import type { PgAdapter } from '../connections/adapter.js';
import { logger } from '../core/logger.js';
import { MinuteAggregator, type AggregateBatchResult } from './aggregate.js';
import { DEFAULT_GROUPS, DEFAULT_TOPICS } from './config.js';
import { CachedInstallStore, PgInstallStore } from './installs.js';
import { addQualityCounts, emptyQualityCounts, QualityProcessor, type QualityCounts, type QualityTopics } from './quality.js';
import { ensureRealtimeTables } from './tables.js';
import type { BatchConsumer, StreamRecord, StreamTransport } from './transport.js';

/**
 * The two stream services as long-running loops over a transport (Kafka or in-process):
 * poll a batch → do the work → make it durable → commit the consumer group's offsets.
 * A service runs until stopped, until its input ends (in-process topics), or — with
 * `idleExitMs` — after that long without a record.
 */

export interface LoopOptions {
  /** Records per batch (default 1000). */
  maxBatch?: number;
  /** How long a poll waits for the first record (default 500 ms). */
  maxWaitMs?: number;
  /** Exit after this long without any record (default: run until stopped or the input ends). */
  idleExitMs?: number;
  /** Group session timeout for Kafka (default 10 s): how long a killed member keeps its partitions. */
  sessionTimeoutMs?: number;
  /**
   * Static group membership (Kafka's group.instance.id): an instance restarted with the same id
   * takes its partitions back at once instead of waiting for the session timeout.
   */
  instanceId?: string;
  clientId?: string;
  /**
   * Fault injection for tests: SIGKILL this process right after the N-th batch's work is durable
   * (outputs acknowledged / totals committed) and before its Kafka offsets are committed — the
   * window that at-least-once delivery and the offset fence exist for.
   */
  crashAfterBatch?: number;
}

function crashPoint(options: LoopOptions, batches: number): void {
  if (options.crashAfterBatch !== undefined && batches === options.crashAfterBatch) process.kill(process.pid, 'SIGKILL');
}

export interface ServiceHandle<Stats> {
  readonly stats: Stats;
  /** Resolves when the loop has ended and the clients are closed (rejects on a failure). */
  readonly done: Promise<void>;
  /** Asks the loop to stop after the current batch; resolves with `done`. */
  stop(): Promise<void>;
}

interface LoopControl {
  stopping: boolean;
}

async function runLoop(
  consumer: BatchConsumer,
  control: LoopControl,
  options: LoopOptions,
  onBatch: (records: StreamRecord[]) => Promise<void>,
): Promise<'stopped' | 'ended' | 'idle'> {
  const maxRecords = options.maxBatch ?? 1000;
  const maxWaitMs = options.maxWaitMs ?? 500;
  let lastRecordAt = Date.now();
  while (!control.stopping) {
    const records = await consumer.poll({ maxRecords, maxWaitMs });
    if (records === null) return 'ended';
    if (records.length === 0) {
      if (options.idleExitMs !== undefined && Date.now() - lastRecordAt >= options.idleExitMs) return 'idle';
      continue;
    }
    lastRecordAt = Date.now();
    await onBatch(records);
  }
  return 'stopped';
}

function handle<Stats>(stats: Stats, control: LoopControl, done: Promise<void>): ServiceHandle<Stats> {
  // Whoever awaits `done` (or stop()) sees a failure; this only avoids an unhandled rejection
  // while nobody is waiting yet.
  done.catch(() => undefined);
  return {
    stats,
    done,
    async stop() {
      control.stopping = true;
      await done;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Quality
// ---------------------------------------------------------------------------------------------

export interface QualityServiceOptions extends LoopOptions {
  transport: StreamTransport;
  /** WAREHOUSE: install times for `before_install` (rt_installs). */
  warehouse: PgAdapter;
  topics?: QualityTopics;
  groupId?: string;
  dedupWindow?: number;
  /** Partitions for topics this service creates when absent (default 4; the DLQ gets 1). */
  partitions?: number;
  onBatch?: (counts: QualityCounts, stats: QualityStats) => void;
}

export interface QualityStats extends QualityCounts {
  batches: number;
  /** Partitions this instance processed records of. */
  partitions: Set<number>;
  /** Partitions the group currently assigns to this instance. */
  assigned: number[];
  /** Kafka offset commits that failed (the batch will be re-processed: at-least-once). */
  commitFailures: number;
  exit?: 'stopped' | 'ended' | 'idle';
}

export async function startQualityService(options: QualityServiceOptions): Promise<ServiceHandle<QualityStats>> {
  const topics = options.topics ?? { ...DEFAULT_TOPICS };
  const partitions = options.partitions ?? 4;
  await options.transport.ensureTopics([
    { name: topics.raw, partitions },
    { name: topics.enriched, partitions },
    { name: topics.dlq, partitions: 1 },
  ]);
  await ensureRealtimeTables(options.warehouse);
  const installs = new CachedInstallStore(new PgInstallStore(options.warehouse));
  const processor = new QualityProcessor(installs, topics, options.dedupWindow);
  const clientId = options.clientId ?? `gamepipe-quality-${randomUUID().slice(0, 8)}`;
  const consumer = await options.transport.consumer({
    groupId: options.groupId ?? DEFAULT_GROUPS.quality,
    topics: [topics.raw],
    clientId,
    ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
    ...(options.instanceId ? { groupInstanceId: options.instanceId } : {}),
  });
  const producer = await options.transport.producer({ clientId });
  const stats: QualityStats = { ...emptyQualityCounts(), batches: 0, partitions: new Set(), assigned: [], commitFailures: 0 };
  consumer.onRebalance((assigned) => {
    // Partitions may have moved: forget per-partition state (dedup windows, cached installs).
    processor.reset();
    installs.clear();
    stats.assigned = assigned.map((a) => a.partition).sort((a, b) => a - b);
  });
  const control: LoopControl = { stopping: false };
  const done = (async () => {
    try {
      stats.exit = await runLoop(consumer, control, options, async (records) => {
        const result = await processor.process(records);
        await producer.send(result.out);
        result.accept();
        crashPoint(options, stats.batches + 1);
        try {
          await consumer.commit(records);
        } catch (err) {
          // Not fatal: the records are re-delivered and re-sent (the aggregator dedups by eventId).
          stats.commitFailures++;
          logger.warn({ err: (err as Error).message }, 'quality: offset commit failed');
        }
        addQualityCounts(stats, result.counts);
        stats.batches++;
        for (const r of records) stats.partitions.add(r.partition);
        options.onBatch?.(result.counts, stats);
      });
    } finally {
      await consumer.close().catch((err: Error) => logger.warn({ err: err.message }, 'quality: consumer close failed'));
      await producer.close().catch((err: Error) => logger.warn({ err: err.message }, 'quality: producer close failed'));
    }
  })();
  return handle(stats, control, done);
}

// ---------------------------------------------------------------------------------------------
// Aggregate
// ---------------------------------------------------------------------------------------------

export interface AggregateServiceOptions extends LoopOptions {
  transport: StreamTransport;
  warehouse: PgAdapter;
  topic?: string;
  groupId?: string;
  allowedLatenessMs?: number;
  stateRetentionMs?: number;
  /** Exchange rates CSV (default: WAREHOUSE.currency_rates, else reference/currency_rates.csv). */
  ratesFile?: string;
  partitions?: number;
  onBatch?: (batch: AggregateBatchResult, stats: AggregateStats) => void;
}

export interface AggregateStats {
  batches: number;
  applied: number;
  replayed: number;
  counted: number;
  duplicates: number;
  late: number;
  unreadable: number;
  partitions: Set<number>;
  /** Partitions the group currently assigns to this instance. */
  assigned: number[];
  exit?: 'stopped' | 'ended' | 'idle';
}

export async function startAggregateService(options: AggregateServiceOptions): Promise<ServiceHandle<AggregateStats>> {
  const topic = options.topic ?? DEFAULT_TOPICS.enriched;
  const groupId = options.groupId ?? DEFAULT_GROUPS.aggregate;
  await options.transport.ensureTopics([{ name: topic, partitions: options.partitions ?? 4 }]);
  await ensureRealtimeTables(options.warehouse);
  const aggregator = new MinuteAggregator(options.warehouse, {
    groupId,
    ...(options.allowedLatenessMs !== undefined ? { allowedLatenessMs: options.allowedLatenessMs } : {}),
    ...(options.stateRetentionMs !== undefined ? { stateRetentionMs: options.stateRetentionMs } : {}),
    ...(options.ratesFile ? { ratesFile: options.ratesFile } : {}),
  });
  const consumer = await options.transport.consumer({
    groupId,
    topics: [topic],
    clientId: options.clientId ?? `gamepipe-aggregate-${randomUUID().slice(0, 8)}`,
    ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
    ...(options.instanceId ? { groupInstanceId: options.instanceId } : {}),
  });
  const stats: AggregateStats = { batches: 0, applied: 0, replayed: 0, counted: 0, duplicates: 0, late: 0, unreadable: 0, partitions: new Set(), assigned: [] };
  // The partition states are reloaded from rt_offsets after every rebalance.
  consumer.onRebalance((assigned) => {
    aggregator.reset();
    stats.assigned = assigned.map((a) => a.partition).sort((a, b) => a - b);
  });
  const control: LoopControl = { stopping: false };
  const done = (async () => {
    try {
      stats.exit = await runLoop(consumer, control, options, async (records) => {
        const result = await aggregator.apply(records);
        crashPoint(options, stats.batches + 1);
        // rt_offsets is the truth; Kafka's committed offset only saves re-reading on restart.
        await consumer.commit(records).catch((err: Error) => logger.info({ err: err.message }, 'aggregate: offset commit failed (harmless)'));
        stats.batches++;
        stats.applied += result.applied;
        stats.replayed += result.replayed;
        stats.counted += result.counted;
        stats.duplicates += result.duplicates;
        stats.late += result.late;
        stats.unreadable += result.unreadable;
        for (const p of result.partitions) stats.partitions.add(p);
        options.onBatch?.(result, stats);
      });
    } finally {
      await consumer.close().catch((err: Error) => logger.warn({ err: err.message }, 'aggregate: consumer close failed'));
    }
  })();
  return handle(stats, control, done);
}

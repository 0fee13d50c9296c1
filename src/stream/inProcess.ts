import type { PgAdapter } from '../connections/adapter.js';
import type { GenerateOptions } from '../events/generator/index.js';
import { DEFAULT_TOPICS } from './config.js';
import { produceGenerated, type ProduceGeneratedResult } from './generate.js';
import { MemoryBroker } from './memory.js';
import { startAggregateService, startQualityService, type AggregateStats, type QualityStats } from './services.js';

/**
 * `gamepipe stream` without Kafka: generator → events-raw → quality → events-enriched →
 * aggregate → rt_* tables, all in this process on the in-process MemoryBroker. The services are
 * the same code that runs against Kafka; only the transport differs. Each stage ends when its
 * input topic is closed and drained, so the run finishes by itself.
 */

export interface InProcessOptions {
  warehouse: PgAdapter;
  generate: GenerateOptions;
  /** Events per second from the generator (default: as fast as possible). */
  rate?: number;
  partitions?: number;
  allowedLatenessMs?: number;
  dedupWindow?: number;
  maxBatch?: number;
  onProgress?: (p: { produced: number; quality: QualityStats; aggregate: AggregateStats }) => void;
}

export interface InProcessResult {
  broker: MemoryBroker;
  produced: ProduceGeneratedResult;
  quality: QualityStats;
  aggregate: AggregateStats;
  seconds: number;
}

export async function runInProcessStream(options: InProcessOptions): Promise<InProcessResult> {
  const started = performance.now();
  const broker = new MemoryBroker();
  const partitions = options.partitions ?? 4;
  const topics = { ...DEFAULT_TOPICS };
  await broker.ensureTopics([
    { name: topics.raw, partitions },
    { name: topics.enriched, partitions },
    { name: topics.dlq, partitions: 1 },
  ]);
  const loop = { maxWaitMs: 50, ...(options.maxBatch ? { maxBatch: options.maxBatch } : {}) };
  let produced = 0;
  const report = () => options.onProgress?.({ produced, quality: quality.stats, aggregate: aggregate.stats });
  const quality = await startQualityService({
    ...loop,
    transport: broker,
    warehouse: options.warehouse,
    topics,
    partitions,
    ...(options.dedupWindow ? { dedupWindow: options.dedupWindow } : {}),
    onBatch: () => report(),
  });
  const aggregate = await startAggregateService({
    ...loop,
    transport: broker,
    warehouse: options.warehouse,
    topic: topics.enriched,
    partitions,
    ...(options.allowedLatenessMs !== undefined ? { allowedLatenessMs: options.allowedLatenessMs } : {}),
    onBatch: () => report(),
  });
  const producer = await broker.producer();
  let result: ProduceGeneratedResult;
  try {
    result = await produceGenerated({
      producer,
      topic: topics.raw,
      generate: options.generate,
      ...(options.rate ? { rate: options.rate } : {}),
      onProgress: (n) => {
        produced = n;
        report();
      },
    });
  } catch (err) {
    await Promise.allSettled([quality.stop(), aggregate.stop()]);
    throw err;
  } finally {
    broker.closeTopic(topics.raw);
  }
  try {
    await quality.done;
  } finally {
    broker.closeTopic(topics.enriched);
    broker.closeTopic(topics.dlq);
  }
  await aggregate.done;
  return { broker, produced: result, quality: quality.stats, aggregate: aggregate.stats, seconds: (performance.now() - started) / 1000 };
}

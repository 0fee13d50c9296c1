import { GamepipeError } from '../../core/errors.js';
import { resolvePaths } from '../../core/paths.js';
import { ConnectionRegistry, WAREHOUSE } from '../../connections/registry.js';
import type { GenerateOptions } from '../../events/generator/options.js';
import { DEFAULT_GROUPS, DEFAULT_TOPICS, parseKafkaUrl, parseRate, resolveBrokers } from '../../stream/config.js';
import { produceGenerated, type ProduceGeneratedResult } from '../../stream/generate.js';
import { runInProcessStream, type InProcessResult } from '../../stream/inProcess.js';
import { KafkaTransport } from '../../stream/kafka.js';
import { readRealtimeMinutes } from '../../stream/realtime.js';
import {
  startAggregateService,
  startQualityService,
  type AggregateStats,
  type LoopOptions,
  type QualityStats,
  type ServiceHandle,
} from '../../stream/services.js';
import { formatCount as n, printJson, printLine } from '../output.js';
import { generateOptionsOf, type GenerateArgs } from '../options.js';
import { todayUtc } from '../../core/dates.js';

/**
 * The actions of `gamepipe stream …` and `gamepipe generate --to kafka://…`. Loaded only when
 * such a command runs (the Kafka client takes a moment to import).
 */


/** Resolves on SIGINT/SIGTERM (and removes its handlers once settled). */
function untilSignal(): { promise: Promise<void>; dispose: () => void } {
  let dispose = () => {};
  const promise = new Promise<void>((resolve) => {
    const h = () => resolve();
    process.once('SIGINT', h);
    process.once('SIGTERM', h);
    dispose = () => {
      process.off('SIGINT', h);
      process.off('SIGTERM', h);
    };
  });
  return { promise, dispose };
}

/** Runs services until they end (idle exit) or a signal asks them to stop. */
async function runUntilStopped(handles: Array<ServiceHandle<unknown>>): Promise<void> {
  const signal = untilSignal();
  try {
    await Promise.race([Promise.all(handles.map((h) => h.done)), signal.promise]);
  } finally {
    signal.dispose();
    await Promise.all(handles.map((h) => h.stop()));
  }
}

function needKafka(option: string | undefined, command: string): string[] {
  const brokers = resolveBrokers(option);
  if (!brokers) {
    throw new GamepipeError(`gamepipe ${command} needs Kafka`, {
      expected: '--brokers HOST:PORT or GAMEPIPE_KAFKA_BROKERS=HOST:PORT (for the in-process demo without Kafka: gamepipe stream)',
    });
  }
  return brokers;
}

function qualityLine(s: QualityStats): string {
  const reasons = Object.entries(s.byReason)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
  return (
    `quality: ${n(s.consumed)} consumed → ${n(s.valid)} valid (enriched), ${n(s.invalid)} invalid (DLQ${reasons ? `: ${reasons}` : ''}), ` +
    `${n(s.duplicates)} duplicates dropped; partitions ${[...s.partitions].sort((a, b) => a - b).join(',') || '-'}`
  );
}

function aggregateLine(s: AggregateStats): string {
  return (
    `aggregate: ${n(s.applied)} applied → ${n(s.counted)} counted in minute windows, ${n(s.late)} late (rt_late_events), ` +
    `${n(s.duplicates)} duplicate ids, ${n(s.replayed)} replayed records skipped; partitions ${[...s.partitions].sort((a, b) => a - b).join(',') || '-'}`
  );
}

const statsJson = (s: QualityStats | AggregateStats) => ({ ...s, partitions: [...s.partitions].sort((a, b) => a - b) });

/** Progress on a terminal: one line every few seconds on stderr. */
function ttyProgress(line: () => string): () => void {
  if (!process.stderr.isTTY) return () => {};
  const timer = setInterval(() => process.stderr.write(`  … ${line()}\n`), 5_000);
  return () => clearInterval(timer);
}

export interface ServiceCommandOptions {
  brokers?: string;
  group?: string;
  instanceId?: string;
  partitions?: number;
  maxBatch?: number;
  idleExit?: number;
  sessionTimeout?: number;
  json?: boolean;
}

/** Test hook (see LoopOptions.crashAfterBatch): `GAMEPIPE_STREAM_CRASH_AFTER_BATCH=N`. */
export const CRASH_AFTER_BATCH_ENV = 'GAMEPIPE_STREAM_CRASH_AFTER_BATCH';

function loopOptions(opts: ServiceCommandOptions): LoopOptions {
  const crash = process.env[CRASH_AFTER_BATCH_ENV];
  return {
    ...(crash && Number.isInteger(Number(crash)) ? { crashAfterBatch: Number(crash) } : {}),
    ...(opts.instanceId ? { instanceId: opts.instanceId } : {}),
    ...(opts.maxBatch ? { maxBatch: opts.maxBatch } : {}),
    ...(opts.idleExit !== undefined ? { idleExitMs: opts.idleExit } : {}),
    ...(opts.sessionTimeout ? { sessionTimeoutMs: opts.sessionTimeout } : {}),
  };
}

export interface QualityCommandOptions extends ServiceCommandOptions {
  input?: string;
  output?: string;
  dlq?: string;
  dedupWindow?: number;
}

/** `gamepipe stream quality`: events-raw → events-enriched + events-dlq, until stopped. */
export async function streamQualityCommandAction(opts: QualityCommandOptions): Promise<QualityStats> {
  const brokers = needKafka(opts.brokers, 'stream quality');
  const connections = new ConnectionRegistry(resolvePaths());
  const transport = new KafkaTransport(brokers);
  try {
    const topics = { raw: opts.input ?? DEFAULT_TOPICS.raw, enriched: opts.output ?? DEFAULT_TOPICS.enriched, dlq: opts.dlq ?? DEFAULT_TOPICS.dlq };
    const service = await startQualityService({
      ...loopOptions(opts),
      transport,
      warehouse: connections.get(WAREHOUSE),
      topics,
      ...(opts.group ? { groupId: opts.group } : {}),
      ...(opts.partitions ? { partitions: opts.partitions } : {}),
      ...(opts.dedupWindow ? { dedupWindow: opts.dedupWindow } : {}),
    });
    if (!opts.json) {
      process.stderr.write(`quality: ${topics.raw} → ${topics.enriched} + ${topics.dlq} on ${transport.description} (group ${opts.group ?? DEFAULT_GROUPS.quality})\n`);
    }
    const stopProgress = ttyProgress(() => qualityLine(service.stats));
    try {
      await runUntilStopped([service]);
    } finally {
      stopProgress();
    }
    if (opts.json) printJson(statsJson(service.stats));
    else printLine(`✔ ${qualityLine(service.stats)}`);
    return service.stats;
  } finally {
    await transport.close();
    await connections.closeAll();
  }
}

export interface AggregateCommandOptions extends ServiceCommandOptions {
  input?: string;
  allowedLateness?: number;
  stateRetention?: number;
  rates?: string;
}

/** `gamepipe stream aggregate`: events-enriched → rt_* tables in WAREHOUSE, until stopped. */
export async function streamAggregateCommandAction(opts: AggregateCommandOptions): Promise<AggregateStats> {
  const brokers = needKafka(opts.brokers, 'stream aggregate');
  const connections = new ConnectionRegistry(resolvePaths());
  const transport = new KafkaTransport(brokers);
  try {
    const topic = opts.input ?? DEFAULT_TOPICS.enriched;
    const service = await startAggregateService({
      ...loopOptions(opts),
      transport,
      warehouse: connections.get(WAREHOUSE),
      topic,
      ...(opts.group ? { groupId: opts.group } : {}),
      ...(opts.partitions ? { partitions: opts.partitions } : {}),
      ...(opts.allowedLateness !== undefined ? { allowedLatenessMs: opts.allowedLateness } : {}),
      ...(opts.stateRetention !== undefined ? { stateRetentionMs: opts.stateRetention } : {}),
      ...(opts.rates ? { ratesFile: opts.rates } : {}),
    });
    if (!opts.json) {
      process.stderr.write(`aggregate: ${topic} → rt_minute_kpis, rt_minute_revenue_by_country on ${transport.description} (group ${opts.group ?? DEFAULT_GROUPS.aggregate})\n`);
    }
    const stopProgress = ttyProgress(() => aggregateLine(service.stats));
    try {
      await runUntilStopped([service]);
    } finally {
      stopProgress();
    }
    if (opts.json) printJson(statsJson(service.stats));
    else printLine(`✔ ${aggregateLine(service.stats)}`);
    return service.stats;
  } finally {
    await transport.close();
    await connections.closeAll();
  }
}

export interface StreamCommandOptions extends ServiceCommandOptions {
  games?: number;
  users?: number;
  days?: number;
  start?: string;
  seed?: number;
  dirty?: number;
  rate?: string;
  allowedLateness?: number;
}

/**
 * `gamepipe stream`: without Kafka, the in-process demo (generator → quality → aggregate, ends by
 * itself); with Kafka (`--brokers` or GAMEPIPE_KAFKA_BROKERS), both services in this process
 * against the cluster, until stopped.
 */
export async function streamCommandAction(opts: StreamCommandOptions): Promise<InProcessResult | { quality: QualityStats; aggregate: AggregateStats }> {
  const brokers = resolveBrokers(opts.brokers);
  const connections = new ConnectionRegistry(resolvePaths());
  try {
    const warehouse = connections.get(WAREHOUSE);
    if (brokers) {
      const transport = new KafkaTransport(brokers);
      try {
        const loop = loopOptions(opts);
        const quality = await startQualityService({ ...loop, transport, warehouse, ...(opts.partitions ? { partitions: opts.partitions } : {}) });
        const aggregate = await startAggregateService({
          ...loop,
          transport,
          warehouse,
          ...(opts.partitions ? { partitions: opts.partitions } : {}),
          ...(opts.allowedLateness !== undefined ? { allowedLatenessMs: opts.allowedLateness } : {}),
        });
        if (!opts.json) process.stderr.write(`stream: quality + aggregate on ${transport.description}; Ctrl-C stops\n`);
        const stopProgress = ttyProgress(() => `${qualityLine(quality.stats)} | ${aggregateLine(aggregate.stats)}`);
        try {
          await runUntilStopped([quality, aggregate]);
        } finally {
          stopProgress();
        }
        if (opts.json) printJson({ quality: statsJson(quality.stats), aggregate: statsJson(aggregate.stats) });
        else printLine(`✔ ${qualityLine(quality.stats)}\n✔ ${aggregateLine(aggregate.stats)}`);
        return { quality: quality.stats, aggregate: aggregate.stats };
      } finally {
        await transport.close();
      }
    }

    const generate: GenerateOptions = {
      games: opts.games ?? 2,
      users: opts.users ?? 200,
      days: opts.days ?? 1,
      start: opts.start ?? todayUtc(),
      seed: opts.seed ?? 1,
      dirtyRate: opts.dirty ?? 0.02,
    };
    const rate = parseRate(opts.rate);
    if (!opts.json) {
      process.stderr.write(
        `stream (in-process, no Kafka configured): generator → events-raw → quality → events-enriched → aggregate → ${warehouse.kind === 'embedded' ? 'embedded' : 'PostgreSQL'} WAREHOUSE\n`,
      );
    }
    let progress = '';
    const stopProgress = ttyProgress(() => progress);
    let result: InProcessResult;
    try {
      result = await runInProcessStream({
        warehouse,
        generate,
        ...(rate ? { rate } : {}),
        ...(opts.partitions ? { partitions: opts.partitions } : {}),
        ...(opts.maxBatch ? { maxBatch: opts.maxBatch } : {}),
        ...(opts.allowedLateness !== undefined ? { allowedLatenessMs: opts.allowedLateness } : {}),
        onProgress: (p) => {
          progress = `generated ${n(p.produced)} | ${qualityLine(p.quality)} | ${aggregateLine(p.aggregate)}`;
        },
      });
    } finally {
      stopProgress();
    }
    const minutes = await readRealtimeMinutes(warehouse, {});
    if (opts.json) {
      printJson({ produced: result.produced.events, seconds: result.seconds, quality: statsJson(result.quality), aggregate: statsJson(result.aggregate), latest: minutes });
      return result;
    }
    printLine(`✔ streamed ${n(result.produced.events)} generated events (${generate.games} game(s), ${n(generate.users)} users, ${generate.days} day(s) from ${generate.start}) through quality and aggregate in ${result.seconds.toFixed(1)} s`);
    printLine(`✔ ${qualityLine(result.quality)}`);
    printLine(`✔ ${aggregateLine(result.aggregate)}`);
    const rows = minutes.minutes.slice(-10);
    if (rows.length) {
      printLine(`last ${rows.length} minutes in rt_minute_kpis (window start UTC, game, purchases, revenue USD, active users, matches):`);
      for (const m of rows) {
        printLine(`  ${m.windowStart.slice(0, 16).replace('T', ' ')}  ${m.gameId.padEnd(8)} ${String(m.purchases).padStart(4)} ${m.revenueUsd.toFixed(2).padStart(10)} ${String(m.activeUsers).padStart(6)} ${String(m.matches).padStart(5)}`);
      }
    }
    return result;
  } finally {
    await connections.closeAll();
  }
}

export interface GenerateToKafkaOptions extends GenerateArgs {
  /** `kafka://HOST:PORT/TOPIC` */
  to: string;
  /** `N/s` */
  rate?: string;
  /** Partitions when the topic has to be created (default 4). */
  partitions?: number;
}

/**
 * `gamepipe generate … --to kafka://HOST:PORT/events-raw [--rate N/s]`: the generated events as
 * Kafka records (the NDJSON lines, keyed by userId), in arrival order, optionally paced.
 */
export async function generateToKafkaCommandAction(
  opts: GenerateToKafkaOptions,
  print: (line: string) => void = printLine,
): Promise<ProduceGeneratedResult> {
  const target = parseKafkaUrl(opts.to);
  const rate = parseRate(opts.rate);
  const transport = new KafkaTransport(target.brokers);
  try {
    await transport.ensureTopics([{ name: target.topic, partitions: opts.partitions ?? 4 }]);
    const producer = await transport.producer({ clientId: 'gamepipe-generate' });
    try {
      const result = await produceGenerated({
        producer,
        topic: target.topic,
        generate: generateOptionsOf(opts),
        ...(rate ? { rate } : {}),
      });
      print(
        `produced ${n(result.events)} events (${result.days} day(s)) to kafka://${target.brokers.join(',')}/${target.topic} keyed by userId` +
          ` in ${result.seconds.toFixed(2)} s (${n(result.eventsPerSecond)} events/s${rate ? `, paced at ${n(rate)}/s` : ''})`,
      );
      return result;
    } finally {
      await producer.close();
    }
  } finally {
    await transport.close();
  }
}

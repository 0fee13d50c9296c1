import type { FastifyInstance } from 'fastify';
import type { TokenStore } from '../auth/tokens.js';
import type { GamepipePaths } from '../core/paths.js';
import { loadMapping } from '../mapping/load.js';
import type { EventMapper } from '../mapping/apply.js';
import { KafkaTransport } from '../stream/kafka.js';
import { createServer, installSecurity } from '../server/security.js';
import type { EventSink } from './batch.js';
import { BronzeSink } from './bronzeSink.js';
import { GroupCommitter } from './groupCommit.js';
import { KafkaSink } from './kafkaSink.js';
import { DEFAULT_COLLECTOR_CONFIG, type CollectorConfig } from './limits.js';
import { collectorRoutes } from './routes.js';

/**
 * The HTTP collector (docs/collector.md): POST /v1/events into bronze (through the ingestion
 * ledger) or, when brokers are configured, into Kafka's events-raw. `gamepipe serve` mounts it
 * beside the API; `gamepipe collect` runs it alone, to scale out behind a load balancer.
 */
export { collectorRoutes } from './routes.js';
export { GroupCommitter, QueueFullError } from './groupCommit.js';
export { BronzeSink } from './bronzeSink.js';
export { KafkaSink } from './kafkaSink.js';
export { collectorConfigSchema, DEFAULT_COLLECTOR_CONFIG, type CollectorConfig, type CollectorLimits } from './limits.js';

export interface Collector {
  readonly sink: EventSink;
  readonly committer: GroupCommitter;
  readonly config: CollectorConfig;
  readonly mappers: ReadonlyMap<string, EventMapper>;
  /** Waits for queued writes, then closes the sink. */
  close(): Promise<void>;
}

export interface OpenCollectorOptions {
  paths: GamepipePaths;
  config?: CollectorConfig | undefined;
  /** Kafka brokers: events go to events-raw; without them, to bronze. */
  brokers?: string[] | undefined;
}

export async function openCollector(options: OpenCollectorOptions): Promise<Collector> {
  const config = options.config ?? DEFAULT_COLLECTOR_CONFIG;
  // Mappings are checked before anything listens: a bad file stops the start with its path.
  const mappers = new Map(Object.entries(config.mappings).map(([game, file]) => [game, loadMapping(file)]));
  let sink: EventSink;
  let transport: KafkaTransport | undefined;
  if (options.brokers) {
    transport = new KafkaTransport(options.brokers, 'gamepipe-collector');
    sink = await KafkaSink.open(transport);
  } else {
    sink = await BronzeSink.open(options.paths);
  }
  const committer = new GroupCommitter(sink, {
    maxQueuedEvents: config.maxQueuedEvents,
    maxEventsPerCommit: config.maxEventsPerCommit,
    concurrency: sink.kind === 'kafka' ? 4 : 1,
  });
  return {
    sink,
    committer,
    config,
    mappers,
    async close() {
      await committer.drain();
      await sink.close();
      await transport?.close();
    },
  };
}

/** Mounts POST /v1/events on an app whose security (src/server/security.ts) is installed. */
export async function mountCollector(app: FastifyInstance, collector: Collector): Promise<void> {
  await app.register(collectorRoutes, { committer: collector.committer, limits: collector.config, mappers: collector.mappers });
}

/** A server with only the collector (and /api/health): `gamepipe collect`. */
export async function buildCollectorApp(collector: Collector, tokens: TokenStore): Promise<FastifyInstance> {
  const app = createServer();
  await installSecurity(app, { tokens });
  app.get('/api/health', { config: { access: 'public' } }, async () => ({ ok: true, sink: collector.sink.kind, queued: collector.committer.queuedEvents }));
  await mountCollector(app, collector);
  return app;
}

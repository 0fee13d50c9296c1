import { z } from 'zod';

/**
 * The collector's limits, from `collector` in gamepipe.config.json (docs/collector.md). They
 * bound memory: a body is at most `maxBodyBytes` (also once decompressed), and at most
 * `maxQueuedEvents` wait for the next group commit.
 */
export const collectorLimitsSchema = z.strictObject({
  /** Bytes per request body, compressed and decompressed (413 above). */
  maxBodyBytes: z.number().int().positive().default(5 * 1024 * 1024),
  /** Events per request (413 above). */
  maxBatchEvents: z.number().int().positive().default(10_000),
  /** Sustained events per second per ingest key (429 above). */
  eventsPerSecondPerKey: z.number().positive().default(100_000),
  /** Events a key may send at once above its rate. */
  burstEventsPerKey: z.number().int().positive().default(200_000),
  /** Events waiting for the next write before requests get 503. */
  maxQueuedEvents: z.number().int().positive().default(100_000),
  /** Events per group commit at most. */
  maxEventsPerCommit: z.number().int().positive().default(20_000),
});

export type CollectorLimits = z.infer<typeof collectorLimitsSchema>;

export const collectorConfigSchema = collectorLimitsSchema.extend({
  /** Event mapping file per game id, for studios that send their own event shape (paths relative to the config file). */
  mappings: z.record(z.string().min(1), z.string().min(1)).default({}),
});

export type CollectorConfig = z.infer<typeof collectorConfigSchema>;

export const DEFAULT_COLLECTOR_CONFIG: CollectorConfig = collectorConfigSchema.parse({});

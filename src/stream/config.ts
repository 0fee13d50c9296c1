import { GamepipeError } from '../core/errors.js';

/**
 * Names, defaults and option parsing shared by the stream commands (see docs/streaming.md).
 */

export const DEFAULT_TOPICS = {
  raw: 'events-raw',
  enriched: 'events-enriched',
  dlq: 'events-dlq',
} as const;

export const DEFAULT_GROUPS = {
  quality: 'gamepipe-stream-quality',
  aggregate: 'gamepipe-stream-aggregate',
} as const;

/** Tumbling windows are one minute of event time. */
export const WINDOW_MS = 60_000;
/** Events may arrive this late (behind the partition's newest event time) and still count. */
export const DEFAULT_ALLOWED_LATENESS_MS = 2 * 60_000;
/** Event ids remembered per partition by the quality service for dedup. */
export const DEFAULT_DEDUP_WINDOW = 100_000;
/** How long (event time) the aggregator keeps counted event ids and window users. */
export const DEFAULT_STATE_RETENTION_MS = 24 * 3_600_000;

/** Environment variable naming the brokers when `--brokers` is not given. */
export const BROKERS_ENV = 'GAMEPIPE_KAFKA_BROKERS';

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/;

/** `host:port[,host:port…]` → a list; errors name the option. */
export function parseBrokers(value: string, option = '--brokers'): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0 || !list.every((b) => HOST_PORT.test(b))) {
    throw new GamepipeError(`${option}: ${JSON.stringify(value)} is not a broker list`, {
      expected: 'host:port[,host:port…], e.g. 127.0.0.1:9092',
    });
  }
  return list;
}

/** Brokers from `--brokers`, else $GAMEPIPE_KAFKA_BROKERS, else undefined (no Kafka configured). */
export function resolveBrokers(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  if (option !== undefined && option !== '') return parseBrokers(option);
  const fromEnv = env[BROKERS_ENV];
  return fromEnv ? parseBrokers(fromEnv, BROKERS_ENV) : undefined;
}

export interface KafkaTarget {
  brokers: string[];
  topic: string;
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

export function checkTopicName(topic: string, option = '--topic'): string {
  if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    throw new GamepipeError(`${option}: ${JSON.stringify(topic)} is not a Kafka topic name`, {
      expected: 'letters, digits, ".", "_" and "-" (at most 249)',
    });
  }
  return topic;
}

/** `kafka://host:port[,host:port…]/topic` (the `--to` of `gamepipe generate`). */
export function parseKafkaUrl(url: string, option = '--to'): KafkaTarget {
  const m = /^kafka:\/\/([^/]+)\/([^/?#]+)$/.exec(url);
  if (!m) {
    throw new GamepipeError(`${option}: ${JSON.stringify(url)} is not a Kafka URL`, {
      expected: 'kafka://HOST:PORT/TOPIC, e.g. kafka://127.0.0.1:9092/events-raw',
    });
  }
  return { brokers: parseBrokers(m[1]!, option), topic: checkTopicName(m[2]!, option) };
}

/** `500/s`, `500` or `1.5k/s` → events per second (undefined for no limit). */
export function parseRate(value: string | undefined, option = '--rate'): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)(k)?\s*(?:\/\s*s)?\s*$/i.exec(value);
  const rate = m ? Number(m[1]) * (m[2] ? 1000 : 1) : Number.NaN;
  if (!(rate > 0) || !Number.isFinite(rate)) {
    throw new GamepipeError(`${option}: ${JSON.stringify(value)} is not a rate`, { expected: 'events per second, e.g. 500/s' });
  }
  return rate;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `2m`, `1h`, `500ms`, or a bare number of seconds → milliseconds. */
export function parseDuration(value: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/.exec(value);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? 's']! : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new GamepipeError(`${option}: ${JSON.stringify(value)} is not a duration`, { expected: 'e.g. 2m, 90s, 500ms, 1h' });
  }
  return Math.round(ms);
}

export function parsePositiveInt(value: string, option: string, max = 1_000_000_000): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new GamepipeError(`${option}: ${JSON.stringify(value)} is not a positive integer`, {
      expected: `an integer from 1 to ${max.toLocaleString('en-US')}`,
    });
  }
  return n;
}

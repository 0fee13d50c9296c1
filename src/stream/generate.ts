import { NdjsonEncoder } from '../events/generator/encode.js';
import { ByteBuffer } from '../events/generator/bytes.js';
import { generateEvents, type GenerateOptions, type GenerationSummary } from '../events/generator/index.js';

import type { OutgoingRecord, RecordProducer } from './transport.js';
import { DAY_MS } from '../core/dates.js';
import { parseDay } from '../core/dates.js';

/**
 * Generated events as a stream (`gamepipe generate --to kafka://…`, and the in-process demo).
 *
 * The generator writes day files user by user; a stream must carry events in the order they
 * would arrive. Each day is therefore re-ordered by arrival time: an event arrives at its
 * timestamp, except when that timestamp lies before an earlier event of the same user or outside
 * the day (clock skew: `before_install`, a far `future_timestamp`, a redelivered `duplicate`, a
 * `late_arrival` from days ago): it arrives when the user's previous event did (late arrivals, at
 * the top of the day file, arrive at the start of the day). The sort is stable, so equal times
 * keep file order. Each record is the exact NDJSON line (bytes, malformed ones included), keyed by
 * userId: one user's events stay on one partition, in order. Memory holds one day of lines.
 */

export interface ArrivingEvent {
  key: string | null;
  /** The NDJSON line, without its newline. */
  value: Buffer;
  /** When it arrives (epoch ms, see above). */
  arrival: number;
}

export interface GeneratedDay {
  day: string;
  events: ArrivingEvent[];
}

/** Day by day, the generated lines in arrival order; returns the generator's ground truth. */
export function* generatedDays(options: GenerateOptions): Generator<GeneratedDay, GenerationSummary, undefined> {
  const it = generateEvents(options);
  const out = new ByteBuffer(1 << 20);
  let encoder: NdjsonEncoder | undefined;
  let day: string | undefined;
  let rows: Array<ArrivingEvent & { seq: number }> = [];
  let user: string | null = null;
  let userArrival = 0;
  let dayStart = 0;
  let result = it.next();
  while (!result.done) {
    const b = result.value;
    encoder ??= new NdjsonEncoder(b.dict);
    if (b.day !== day) {
      day = b.day;
      dayStart = parseDay(b.day)!;
      user = null;
      userArrival = dayStart;
    }
    const dayEnd = dayStart + DAY_MS - 1;
    for (let i = 0; i < b.size; i++) {
      out.pos = 0;
      encoder.encode(b, i, out);
      const value = Buffer.from(out.buf.subarray(0, out.pos - 1));
      const rowUser = b.userId[i] ?? null;
      if (rowUser !== null && rowUser !== user) {
        user = rowUser;
        userArrival = dayStart;
      }
      const ts = b.timestamp[i]!;
      if (Number.isFinite(ts) && ts >= userArrival && ts <= dayEnd) userArrival = ts;
      rows.push({ key: rowUser, value, arrival: userArrival, seq: rows.length });
    }
    if (b.lastOfDay) {
      rows.sort((x, y) => x.arrival - y.arrival || x.seq - y.seq);
      yield { day: b.day, events: rows.map(({ key, value, arrival }) => ({ key, value, arrival })) };
      rows = [];
      day = undefined;
    }
    result = it.next();
  }
  return result.value;
}

export interface ProduceGeneratedOptions {
  producer: RecordProducer;
  topic: string;
  generate: GenerateOptions;
  /** Events per second (default: as fast as the broker takes them). */
  rate?: number;
  /** Records per produce call (default 500). */
  chunk?: number;
  signal?: AbortSignal;
  onProgress?: (sent: number) => void;
}

export interface ProduceGeneratedResult {
  events: number;
  days: number;
  seconds: number;
  eventsPerSecond: number;
  summary: GenerationSummary;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Produces a generated data set to a topic, optionally paced to `rate` events per second. */
export async function produceGenerated(options: ProduceGeneratedOptions): Promise<ProduceGeneratedResult> {
  const started = performance.now();
  const chunk = options.rate ? Math.max(1, Math.min(options.chunk ?? 500, Math.ceil(options.rate / 10))) : (options.chunk ?? 500);
  const days = generatedDays(options.generate);
  let sent = 0;
  let dayCount = 0;
  let result = days.next();
  while (!result.done) {
    dayCount++;
    const events = result.value.events;
    for (let i = 0; i < events.length; i += chunk) {
      if (options.signal?.aborted) break;
      const slice = events.slice(i, i + chunk);
      const records: OutgoingRecord[] = slice.map((e) => ({ topic: options.topic, key: e.key, value: e.value }));
      await options.producer.send(records);
      sent += records.length;
      options.onProgress?.(sent);
      if (options.rate) {
        // Pace against the start: sent / rate seconds should have passed.
        const due = (sent / options.rate) * 1000 - (performance.now() - started);
        if (due > 0) await sleep(due);
      }
    }
    if (options.signal?.aborted) break;
    result = days.next();
  }
  // Drain the generator for its summary when stopped early.
  while (!result.done) result = days.next();
  const seconds = (performance.now() - started) / 1000;
  return { events: sent, days: dayCount, seconds, eventsPerSecond: seconds > 0 ? sent / seconds : 0, summary: result.value };
}

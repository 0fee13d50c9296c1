import { compatibilityPartitioner } from '@platformatic/kafka';
import type { BatchConsumer, OutgoingRecord, PollOptions, RecordProducer, StreamRecord, StreamTransport, TopicPartition } from './transport.js';

/**
 * An in-process stand-in for Kafka, for `gamepipe stream` without brokers (the demo) and for
 * tests: topics with partitions of records, key-hash partitioning (Kafka's murmur2, so a key
 * lands on the same partition number as on a real cluster), committed offsets per group. A
 * topic can be closed (its producer is done): consumers then end once they have read it all.
 * A group has one member, which owns every partition.
 */

class MemoryTopic {
  readonly partitions: StreamRecord[][];
  closed = false;
  private waiters: Array<() => void> = [];

  constructor(
    readonly name: string,
    partitions: number,
  ) {
    this.partitions = Array.from({ length: partitions }, () => []);
  }

  append(record: OutgoingRecord): void {
    const key = record.key === null ? null : Buffer.from(record.key);
    const partition =
      record.partition ?? (key ? compatibilityPartitioner(undefined as never, key) % this.partitions.length : 0);
    const log = this.partitions[partition % this.partitions.length]!;
    log.push({ topic: this.name, partition, offset: BigInt(log.length), key, value: Buffer.from(record.value), timestamp: Date.now() });
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves on the next append or close, or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }
}

export class MemoryBroker implements StreamTransport {
  readonly kind = 'memory' as const;
  readonly description = 'in-process';
  private readonly topics = new Map<string, MemoryTopic>();
  private readonly committed = new Map<string, bigint>();

  topic(name: string): MemoryTopic {
    const t = this.topics.get(name);
    if (!t) throw new Error(`in-process topic ${name} does not exist`);
    return t;
  }

  async ensureTopics(topics: Array<{ name: string; partitions: number }>): Promise<void> {
    for (const { name, partitions } of topics) if (!this.topics.has(name)) this.topics.set(name, new MemoryTopic(name, partitions));
  }

  /** No more records will be produced to `name`: its consumers end once they have read it all. */
  closeTopic(name: string): void {
    const t = this.topic(name);
    t.closed = true;
    t.notify();
  }

  /** Every record of a topic, partition by partition. */
  records(name: string): StreamRecord[] {
    return this.topic(name).partitions.flat();
  }

  async producer(): Promise<RecordProducer> {
    return {
      send: async (records) => {
        const touched = new Set<MemoryTopic>();
        for (const r of records) {
          const t = this.topic(r.topic);
          if (t.closed) throw new Error(`in-process topic ${r.topic} is closed`);
          t.append(r);
          touched.add(t);
        }
        for (const t of touched) t.notify();
      },
      close: async () => {},
    };
  }

  async consumer(options: { groupId: string; topics: string[] }): Promise<BatchConsumer> {
    const topics = options.topics.map((n) => this.topic(n));
    const positions = new Map<string, bigint>();
    const keyOf = (topic: string, partition: number) => `${options.groupId}\u0000${topic}\u0000${partition}`;
    for (const t of topics) {
      t.partitions.forEach((_, p) => positions.set(keyOf(t.name, p), this.committed.get(keyOf(t.name, p)) ?? 0n));
    }
    const assigned: TopicPartition[] = topics.flatMap((t) => t.partitions.map((_, partition) => ({ topic: t.name, partition })));
    let closed = false;

    const take = (max: number): StreamRecord[] => {
      const out: StreamRecord[] = [];
      // Round-robin over partitions, a slice of each, so one busy partition cannot starve the others.
      const share = Math.max(1, Math.ceil(max / Math.max(1, assigned.length)));
      let progressed = true;
      while (out.length < max && progressed) {
        progressed = false;
        for (const { topic, partition } of assigned) {
          const log = this.topic(topic).partitions[partition]!;
          const key = keyOf(topic, partition);
          let pos = positions.get(key)!;
          const stop = Math.min(log.length, Number(pos) + share, Number(pos) + (max - out.length));
          for (let i = Number(pos); i < stop; i++) out.push(log[i]!);
          if (BigInt(stop) > pos) progressed = true;
          pos = BigInt(Math.max(stop, Number(pos)));
          positions.set(key, pos);
          if (out.length >= max) break;
        }
      }
      return out;
    };
    const ended = () =>
      topics.every((t) => t.closed && t.partitions.every((log, p) => positions.get(keyOf(t.name, p))! >= BigInt(log.length)));

    return {
      poll: async ({ maxRecords, maxWaitMs }: PollOptions) => {
        if (closed) return null;
        let out = take(maxRecords);
        if (out.length === 0 && !ended()) {
          await Promise.race(topics.map((t) => t.wait(maxWaitMs)));
          out = take(maxRecords);
        }
        if (out.length === 0 && ended()) return null;
        return out;
      },
      commit: async (records) => {
        for (const r of records) {
          const key = keyOf(r.topic, r.partition);
          const next = r.offset + 1n;
          if ((this.committed.get(key) ?? -1n) < next) this.committed.set(key, next);
        }
      },
      onRebalance: (listener) => {
        queueMicrotask(() => listener(assigned));
      },
      close: async () => {
        closed = true;
      },
    };
  }

  async close(): Promise<void> {
    for (const t of this.topics.values()) t.notify();
  }
}

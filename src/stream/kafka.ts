import {
  Admin,
  compatibilityPartitioner,
  Consumer,
  ProduceAcks,
  Producer,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import { GamepipeError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { BatchConsumer, OutgoingRecord, PollOptions, RecordProducer, StreamRecord, StreamTransport, TopicPartition } from './transport.js';

/**
 * The Kafka side of the stream transport, on @platformatic/kafka (a pure-JS client: no native
 * addon, maintained, the fastest of the JS clients in its own and third-party benchmarks, and it
 * speaks the protocol versions Kafka 4 kept — KafkaJS's are older and partly removed in 4.0).
 *
 * Consumers join a group, start from the group's committed offsets (the earliest offset for a
 * partition that has none), never auto-commit (the services commit after their work is safely
 * written), and hand out records in batches. Producers are idempotent, wait for all in-sync
 * replicas, and partition by key with Kafka's Java-compatible murmur2, so a userId lands on the
 * same partition whichever client produced it.
 */

type Bytes = Buffer;
type KafkaMessage = Message<Bytes, Bytes, Bytes, Bytes>;

/** Buffered records per consumer before the fetch loop pauses. */
const BUFFER_HIGH = 20_000;
const BUFFER_LOW = 5_000;
/** Records per produce request. */
const SEND_CHUNK = 2_000;

export interface KafkaConsumerOptions {
  groupId: string;
  topics: string[];
  clientId: string;
  /** Group session timeout: how long a killed member keeps its partitions (default 10 s). */
  sessionTimeoutMs?: number;
  /** Static membership: a restarted member with the same id gets its partitions back at once. */
  groupInstanceId?: string;
}

function asBuffer(value: string | Buffer | null | undefined): Buffer | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? Buffer.from(value) : value;
}

class KafkaBatchConsumer implements BatchConsumer {
  private readonly consumer: Consumer<Bytes, Bytes, Bytes, Bytes>;
  private stream: MessagesStream<Bytes, Bytes, Bytes, Bytes> | undefined;
  private buffer: KafkaMessage[] = [];
  private head = 0;
  private paused = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly listeners: Array<(assigned: TopicPartition[]) => void> = [];
  /** The latest assignment, replayed to listeners registered after the first join. */
  private assigned: TopicPartition[] | undefined;
  private readonly origin = new WeakMap<StreamRecord, KafkaMessage>();

  constructor(
    brokers: string[],
    private readonly options: KafkaConsumerOptions,
  ) {
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    this.consumer = new Consumer({
      clientId: options.clientId,
      bootstrapBrokers: brokers,
      groupId: options.groupId,
      ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
      autocommit: false,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout, 15_000),
      heartbeatInterval: Math.min(1_000, Math.floor(sessionTimeout / 3)),
      maxWaitTime: 250,
      retries: 10,
      retryDelay: 250,
    });
    this.consumer.on('consumer:group:join', (payload) => {
      const assigned = (payload.assignments ?? []).flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
      logger.info({ group: options.groupId, member: payload.memberId, assigned }, 'kafka group joined');
      this.assigned = assigned;
      for (const l of this.listeners) l(assigned);
    });
  }

  async start(): Promise<this> {
    const stream = await this.consumer.consume({
      topics: this.options.topics,
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
    });
    this.stream = stream;
    stream.on('data', (m: KafkaMessage) => {
      this.buffer.push(m);
      if (!this.paused && this.buffer.length - this.head >= BUFFER_HIGH) {
        this.paused = true;
        stream.pause();
      }
      this.wakeUp();
    });
    stream.on('error', (err: Error) => {
      this.failure = err;
      this.wakeUp();
    });
    return this;
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async poll({ maxRecords, maxWaitMs }: PollOptions): Promise<StreamRecord[] | null> {
    if (this.failure) throw this.failure;
    if (this.buffer.length === this.head && maxWaitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, maxWaitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.failure) throw this.failure;
    const end = Math.min(this.buffer.length, this.head + maxRecords);
    const out: StreamRecord[] = [];
    for (let i = this.head; i < end; i++) {
      const m = this.buffer[i]!;
      const record: StreamRecord = {
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
        key: m.key ?? null,
        value: m.value ?? null,
        timestamp: Number(m.timestamp),
      };
      this.origin.set(record, m);
      out.push(record);
    }
    this.head = end;
    if (this.head > 10_000 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.buffer.length - this.head <= BUFFER_LOW) {
      this.paused = false;
      this.stream?.resume();
    }
    return out;
  }

  async commit(records: StreamRecord[]): Promise<void> {
    // The last record of each partition commits its offset + 1 (with the partition's leader epoch).
    const last = new Map<string, StreamRecord>();
    for (const r of records) {
      const key = `${r.topic}:${r.partition}`;
      const seen = last.get(key);
      if (!seen || r.offset > seen.offset) last.set(key, r);
    }
    await Promise.all(
      [...last.values()].map(async (r) => {
        const m = this.origin.get(r);
        if (m) await m.commit();
      }),
    );
  }

  onRebalance(listener: (assigned: TopicPartition[]) => void): void {
    this.listeners.push(listener);
    const current = this.assigned;
    if (current) queueMicrotask(() => listener(current));
  }

  async close(): Promise<void> {
    this.wakeUp();
    try {
      await this.stream?.close();
    } finally {
      await this.consumer.close(true);
    }
  }
}

class KafkaRecordProducer implements RecordProducer {
  constructor(private readonly producer: Producer<Bytes, Bytes, Bytes, Bytes>) {}

  async send(records: OutgoingRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += SEND_CHUNK) {
      const chunk = records.slice(i, i + SEND_CHUNK);
      await this.producer.send({
        messages: chunk.map((r) => {
          const key = asBuffer(r.key);
          return {
            topic: r.topic,
            value: asBuffer(r.value)!,
            ...(key ? { key } : {}),
            ...(r.partition !== undefined ? { partition: r.partition } : {}),
          };
        }),
      });
    }
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

export class KafkaTransport implements StreamTransport {
  readonly kind = 'kafka' as const;
  readonly description: string;
  private adminClient: Admin | undefined;

  constructor(
    readonly brokers: string[],
    private readonly clientIdPrefix = 'gamepipe',
  ) {
    this.description = `Kafka ${brokers.join(',')}`;
  }

  private admin(): Admin {
    this.adminClient ??= new Admin({ clientId: `${this.clientIdPrefix}-admin`, bootstrapBrokers: this.brokers, retries: 5, retryDelay: 250 });
    return this.adminClient;
  }

  async ensureTopics(topics: Array<{ name: string; partitions: number }>): Promise<void> {
    const admin = this.admin();
    const existing = new Set(await admin.listTopics());
    for (const { name, partitions } of topics) {
      if (existing.has(name)) continue;
      try {
        await admin.createTopics({ topics: [name], partitions, replicas: 1 });
        logger.info({ topic: name, partitions }, 'kafka topic created');
      } catch (err) {
        // Another instance created it first: fine.
        if (!/exist/i.test(String((err as Error).message) + JSON.stringify((err as { errors?: unknown }).errors ?? ''))) {
          throw new GamepipeError(`cannot create Kafka topic ${name}: ${(err as Error).message}`, { expected: `a reachable broker at ${this.brokers.join(',')}` }, { cause: err });
        }
      }
    }
  }

  /** Partition count of a topic. */
  async partitions(topic: string): Promise<number> {
    const md = await this.admin().metadata({ topics: [topic] });
    const t = md.topics.get(topic);
    if (!t) throw new GamepipeError(`Kafka topic ${topic} does not exist`, { expected: `a topic on ${this.brokers.join(',')}` });
    return t.partitionsCount;
  }

  /** The next offset to be written, per partition (the "high watermark"). */
  async endOffsets(topic: string): Promise<bigint[]> {
    const count = await this.partitions(topic);
    const listed = await this.admin().listOffsets({
      topics: [{ name: topic, partitions: Array.from({ length: count }, (_, partition) => ({ partitionIndex: partition, timestamp: -1n })) }],
    } as never);
    const out = Array.from({ length: count }, () => 0n);
    for (const t of listed) for (const p of t.partitions) out[p.partitionIndex] = p.offset;
    return out;
  }

  /** A group's committed offsets on a topic (-1 where none). */
  async committedOffsets(groupId: string, topic: string): Promise<bigint[]> {
    const count = await this.partitions(topic);
    const out = Array.from({ length: count }, () => -1n);
    const groups = await this.admin().listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes: Array.from({ length: count }, (_, i) => i) }] }],
    });
    for (const g of groups) for (const t of g.topics) for (const p of t.partitions) out[p.partitionIndex] = p.committedOffset;
    return out;
  }

  async consumer(options: KafkaConsumerOptions): Promise<BatchConsumer> {
    return new KafkaBatchConsumer(this.brokers, options).start();
  }

  async producer(options: { clientId: string }): Promise<RecordProducer> {
    const producer = new Producer<Bytes, Bytes, Bytes, Bytes>({
      clientId: options.clientId,
      bootstrapBrokers: this.brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      partitioner: compatibilityPartitioner,
      autocreateTopics: false,
      retries: 10,
      retryDelay: 250,
    });
    return new KafkaRecordProducer(producer);
  }

  async close(): Promise<void> {
    await this.adminClient?.close();
    this.adminClient = undefined;
  }
}

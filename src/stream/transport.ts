/**
 * What the stream services need from a log (Kafka, or the in-process MemoryBroker for the demo):
 * batches of records from a consumer group's partitions, committing how far a group got, and
 * producing records. The quality and aggregate services are written against these interfaces
 * only, so the demo runs exactly the code that runs against Kafka.
 */

export interface StreamRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** The record's timestamp (producer create time), epoch ms. */
  timestamp: number;
}

export interface OutgoingRecord {
  topic: string;
  key: string | Buffer | null;
  /** Text is sent as UTF-8; a Buffer as its bytes. */
  value: string | Buffer;
  /** Explicit partition; otherwise the key decides (Kafka's murmur2 partitioner). */
  partition?: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PollOptions {
  /** At most this many records. */
  maxRecords: number;
  /** Wait at most this long for the first record. */
  maxWaitMs: number;
}

export interface BatchConsumer {
  /**
   * The next records (in offset order within each partition), `[]` after `maxWaitMs` without
   * any, or `null` when the input has ended (in-process topics only; Kafka never ends).
   */
  poll(options: PollOptions): Promise<StreamRecord[] | null>;
  /** Commits the group's position after `records` (offset + 1 of the last record per partition). */
  commit(records: StreamRecord[]): Promise<void>;
  /** Called after every group rebalance (partitions may have moved to or from this member). */
  onRebalance(listener: (assigned: TopicPartition[]) => void): void;
  close(): Promise<void>;
}

export interface RecordProducer {
  /** Sends and waits until every record is acknowledged. */
  send(records: OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** A place to open consumers and producers: a Kafka cluster or the in-process broker. */
export interface StreamTransport {
  readonly kind: 'kafka' | 'memory';
  /** Human description (brokers, or "in-process"). */
  readonly description: string;
  consumer(options: { groupId: string; topics: string[]; clientId: string; sessionTimeoutMs?: number; groupInstanceId?: string }): Promise<BatchConsumer>;
  producer(options: { clientId: string }): Promise<RecordProducer>;
  /** Creates the topics that do not exist yet (partitions only for new ones). */
  ensureTopics(topics: Array<{ name: string; partitions: number }>): Promise<void>;
  close(): Promise<void>;
}

/** The next offset to read after each partition's last record in `records`. */
export function nextOffsets(records: readonly StreamRecord[]): Map<string, { topic: string; partition: number; next: bigint }> {
  const out = new Map<string, { topic: string; partition: number; next: bigint }>();
  for (const r of records) {
    const key = `${r.topic}:${r.partition}`;
    const seen = out.get(key);
    if (!seen || r.offset + 1n > seen.next) out.set(key, { topic: r.topic, partition: r.partition, next: r.offset + 1n });
  }
  return out;
}

import { DEFAULT_TOPICS } from '../stream/config.js';
import type { OutgoingRecord, RecordProducer, StreamTransport } from '../stream/transport.js';
import { eventIdOf, type CollectedBatch, type EventSink } from './batch.js';

/**
 * The collector's Kafka sink: prepared events to `events-raw` (keyed by userId, as the generator
 * produces them, so the stream services see one partition per player), rejected ones to
 * `events-dlq` with their reason. The producer is idempotent with acks=all (src/stream/kafka.ts),
 * so write() resolves once every in-sync replica has the records: then the collector answers 200.
 */
export interface CollectorDeadLetter {
  reasons: string[];
  detail?: string;
  eventId: null;
  raw: string | null;
  source: { collector: string; gameId: string; ingestedAt: string };
}

export class KafkaSink implements EventSink {
  readonly kind = 'kafka' as const;

  private constructor(
    private readonly producer: RecordProducer,
    readonly topics: { raw: string; dlq: string },
  ) {}

  static async open(transport: StreamTransport, topics: { raw: string; dlq: string } = DEFAULT_TOPICS, partitions = 3): Promise<KafkaSink> {
    await transport.ensureTopics([
      { name: topics.raw, partitions },
      { name: topics.dlq, partitions },
    ]);
    const producer = await transport.producer({ clientId: 'gamepipe-collector' });
    return new KafkaSink(producer, topics);
  }

  async write(batches: readonly CollectedBatch[]): Promise<void> {
    const ingestedAt = new Date().toISOString();
    const records: OutgoingRecord[] = [];
    for (const batch of batches) {
      for (const item of batch.items) {
        if (item.kind === 'event') {
          const userId = item.raw.userId;
          records.push({ topic: this.topics.raw, key: typeof userId === 'string' ? userId : eventIdOf(item), value: item.text });
        } else {
          const letter: CollectorDeadLetter = {
            reasons: [item.reason],
            ...(item.detail ? { detail: item.detail } : {}),
            eventId: null,
            raw: item.text,
            source: { collector: batch.source, gameId: batch.gameId, ingestedAt },
          };
          records.push({ topic: this.topics.dlq, key: null, value: JSON.stringify(letter) });
        }
      }
    }
    if (records.length) await this.producer.send(records);
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

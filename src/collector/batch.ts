import type { RawVerdict } from '../stream/rawEvent.js';

/**
 * What the collector hands a sink: the events of one or more requests, each already prepared
 * (mapped, game-checked, timestamp parsed: prepareEvent in src/stream/rawEvent.ts) or rejected
 * with its reason. Rejected events are kept too: they go to quarantine (bronze) or the DLQ (Kafka).
 */
export interface CollectedBatch {
  /** Who sent it: `http:<key name>`; stored as the rows' `source`. */
  source: string;
  /** The game of the ingest key. */
  gameId: string;
  items: RawVerdict[];
}

/** Where acknowledged events go: bronze through the ingestion ledger, or Kafka's events-raw. */
export interface EventSink {
  readonly kind: 'bronze' | 'kafka';
  /** Writes every batch durably, resolving only once they are (one group commit). */
  write(batches: readonly CollectedBatch[]): Promise<void>;
  close(): Promise<void>;
}

export function eventIdOf(v: RawVerdict): string | null {
  return v.kind === 'event' && typeof v.raw.eventId === 'string' && v.raw.eventId !== '' ? v.raw.eventId : null;
}

export function eventNameOf(v: RawVerdict): string | null {
  return v.kind === 'event' && typeof v.raw.eventName === 'string' ? v.raw.eventName : null;
}

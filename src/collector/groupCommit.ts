import type { CollectedBatch, EventSink } from './batch.js';

/**
 * Group commit in front of a sink: requests that arrive while a write is in flight wait
 * together and go out in the next write (one bronze ingestion, or one Kafka produce), so the
 * fsync or broker round trip is paid once for many requests. The queue is bounded by events:
 * a request that does not fit is refused at once (QueueFullError → 503 with Retry-After), so
 * memory stays bounded however fast clients send.
 */
export class QueueFullError extends Error {
  constructor(readonly queued: number) {
    super(`the write queue is full (${queued} events waiting)`);
  }
}

interface Pending {
  batch: CollectedBatch;
  size: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** Events waiting (not yet being written) before requests are refused. */
  maxQueuedEvents: number;
  /** Events per write at most (the rest wait for the next one). */
  maxEventsPerCommit: number;
  /** Writes in flight at once (bronze: 1; Kafka: a few, the producer pipelines them). */
  concurrency: number;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private queued = 0;
  private inFlight = 0;
  private idle: Array<() => void> = [];

  constructor(
    readonly sink: EventSink,
    readonly options: GroupCommitOptions,
  ) {}

  get queuedEvents(): number {
    return this.queued;
  }

  /** Resolves once the batch is durably written; throws QueueFullError when it cannot wait. */
  submit(batch: CollectedBatch): Promise<void> {
    const size = Math.max(1, batch.items.length);
    if (this.queued > 0 && this.queued + size > this.options.maxQueuedEvents) return Promise.reject(new QueueFullError(this.queued));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ batch, size, resolve, reject });
      this.queued += size;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const group: Pending[] = [];
      let events = 0;
      while (this.queue.length > 0 && (group.length === 0 || events + this.queue[0]!.size <= this.options.maxEventsPerCommit)) {
        const p = this.queue.shift()!;
        group.push(p);
        events += p.size;
      }
      this.queued -= events;
      this.inFlight++;
      this.sink
        .write(group.map((p) => p.batch))
        .then(
          () => group.forEach((p) => p.resolve()),
          (err: unknown) => group.forEach((p) => p.reject(err)),
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
          if (this.inFlight === 0 && this.queue.length === 0) this.idle.splice(0).forEach((f) => f());
        });
    }
  }

  /** Resolves when nothing is queued or being written. */
  async drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}

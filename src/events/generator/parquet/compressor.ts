import { Worker } from 'node:worker_threads';

/**
 * GZIP compression of Parquet pages on a worker thread, so that the main thread keeps
 * generating while the other core compresses. One message per row group (its pages
 * transferred, not copied); the worker uses zlib's synchronous API, which costs far less per
 * page than the asynchronous one (that creates a stream and a thread-pool job per call).
 *
 * The worker is plain JavaScript passed as source, so it runs the same under tsx, vitest and
 * the compiled build.
 */

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
parentPort.on('message', ({ id, pages, level }) => {
  try {
    const out = pages.map((page) => {
      const z = zlib.gzipSync(page, { level });
      return new Uint8Array(z.buffer, z.byteOffset, z.byteLength);
    });
    parentPort.postMessage({ id, pages: out }, out.map((p) => p.buffer));
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.stack || err) });
  }
});
`;

interface Pending {
  resolve: (pages: Uint8Array[]) => void;
  reject: (err: Error) => void;
}

export class GzipWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly level = 1) {}

  /** Compress pages (their buffers are transferred: do not use them afterwards). */
  compress(pages: Uint8Array[]): Promise<Uint8Array[]> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise<Uint8Array[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const transfer = pages.map((p) => p.buffer as ArrayBuffer);
      worker.postMessage({ id, pages, level: this.level }, transfer);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (msg: { id: number; pages?: Uint8Array[]; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(`parquet page compression failed: ${msg.error}`));
      else p.resolve(msg.pages!);
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      if (this.pending.size > 0) this.failAll(new Error(`parquet compression worker exited with code ${code}`));
    });
    return worker;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

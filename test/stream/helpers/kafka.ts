import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PgAdapter } from '../../../src/connections/adapter.js';
import type { KafkaTransport } from '../../../src/stream/kafka.js';
import type { StreamRecord } from '../../../src/stream/transport.js';

/** The broker the Kafka suites use (scripts/ci/start-kafka.sh exports it); unset: they skip. */
export const kafkaBrokers = process.env.GAMEPIPE_TEST_KAFKA_BROKERS;

/** Fresh topic and group names for one test, so suites and reruns never share state. */
export function uniqueNames(label: string) {
  const id = `${label}-${randomUUID().slice(0, 8)}`;
  return {
    topics: { raw: `${id}-raw`, enriched: `${id}-enriched`, dlq: `${id}-dlq` },
    groups: { quality: `${id}-quality`, aggregate: `${id}-aggregate` },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true (or fails after `timeoutMs`, naming `what`). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 120_000,
  everyMs = 100,
  detail: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail() ? `\n${detail()}` : ''}`);
    await sleep(everyMs);
  }
}

/** Every record of a topic, partition by partition in offset order (read with a throwaway group). */
export async function readTopic(transport: KafkaTransport, topic: string): Promise<StreamRecord[]> {
  const end = await transport.endOffsets(topic);
  const total = end.reduce((a, b) => a + b, 0n);
  const out: StreamRecord[] = [];
  if (total === 0n) return out;
  const consumer = await transport.consumer({ groupId: `read-${randomUUID()}`, topics: [topic], clientId: 'test-reader', sessionTimeoutMs: 6000 });
  try {
    const seen = new Map<number, bigint>();
    const deadline = Date.now() + 60_000;
    while ([...end.keys()].some((p) => (seen.get(p) ?? 0n) < end[p]!)) {
      if (Date.now() > deadline) throw new Error(`timed out reading ${topic}`);
      const batch = (await consumer.poll({ maxRecords: 5000, maxWaitMs: 500 })) ?? [];
      for (const r of batch) {
        if (r.offset < (seen.get(r.partition) ?? 0n) || r.offset >= end[r.partition]!) continue;
        out.push(r);
        seen.set(r.partition, r.offset + 1n);
      }
    }
  } finally {
    await consumer.close();
  }
  return out.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : 1));
}

export const sum = (xs: readonly bigint[]) => xs.reduce((a, b) => a + b, 0n);

/** Next offset per partition the aggregator has applied (rt_offsets), by partition. */
export async function appliedOffsets(db: PgAdapter, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const rows = await db.withSession(
    async (s) =>
      (await s.query<{ partition: number; next_offset: string | number }>(`SELECT partition, next_offset FROM rt_offsets WHERE group_id = $1 AND topic = $2`, [groupId, topic]))
        .rows,
  );
  return new Map(rows.map((r) => [Number(r.partition), BigInt(r.next_offset)]));
}

/** True once the quality group has committed all of raw and the aggregator has applied all of enriched. */
export async function drained(
  transport: KafkaTransport,
  db: PgAdapter,
  names: ReturnType<typeof uniqueNames>,
): Promise<boolean> {
  const rawEnd = await transport.endOffsets(names.topics.raw);
  const committed = await transport.committedOffsets(names.groups.quality, names.topics.raw);
  if (rawEnd.some((end, p) => end > 0n && committed[p]! < end)) return false;
  const enrichedEnd = await transport.endOffsets(names.topics.enriched);
  const applied = await appliedOffsets(db, names.groups.aggregate, names.topics.enriched).catch(() => new Map<number, bigint>());
  return enrichedEnd.every((end, p) => end === 0n || applied.get(p) === end);
}

// ---------------------------------------------------------------------------------------------
// The stream commands as child processes
// ---------------------------------------------------------------------------------------------

const root = path.resolve(import.meta.dirname, '../../..');
const tsxLoader = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const streamCli = path.join(root, 'src/cli/main.ts');

export interface Child {
  process: ChildProcess;
  /** stdout and stderr, interleaved. */
  output: () => string;
  stdout: () => string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Starts `gamepipe stream <args>` as a child process (stdout/stderr collected). */
export function spawnStream(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Child {
  const child = spawn(process.execPath, ['--import', tsxLoader, streamCli, 'stream', ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, GAMEPIPE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => {
    text += d.toString();
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { process: child, output: () => text, stdout: () => stdout, exited };
}

import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EventMapper } from '../mapping/apply.js';
import { classifyRawValue, prepareEvent, type RawVerdict } from '../stream/rawEvent.js';
import type { CollectorLimits } from './limits.js';
import { KeyRates } from './rates.js';
import { QueueFullError, type GroupCommitter } from './groupCommit.js';

/**
 * `POST /v1/events`: a batch of events from a game client or server, authenticated by an ingest
 * key (`Authorization: Bearer KEY`, role `ingest`, one game: src/auth). The body is a JSON array
 * of events or NDJSON (one event per line), optionally gzip (`Content-Encoding: gzip`).
 *
 * Each event goes through prepareEvent (the game's mapping when configured, the key's game, the
 * timestamp) — the code path of file ingestion and the stream service. Events that cannot be
 * events are kept with their reason (quarantine or DLQ) and the rest is accepted. The answer
 * comes only once the whole batch is durable (group commit, groupCommit.ts):
 *
 * - 200 `{accepted, rejected, reasons, errors}`: durable; `errors` lists the first rejected
 *   events by index with their reason.
 * - 400 the body is not a JSON array / NDJSON; 401/403 no valid ingest key (src/auth);
 * - 413 body (compressed or not) or batch over the limits; 429 the key is over its event rate
 *   (Retry-After); 503 the write queue is full or the sink failed (Retry-After): retry later.
 *
 * Retrying any non-200 answer is safe: events keep their eventId (or the mapping's stable hash)
 * and silver keeps the first copy of each eventId.
 */

export interface CollectorRouteOptions {
  committer: GroupCommitter;
  limits: CollectorLimits;
  /** A mapping per game id, for studios that send their own event shape. */
  mappers?: ReadonlyMap<string, EventMapper>;
}

const gunzip = promisify(zlib.gunzip);
/** Errors listed in a 200 answer, at most (the counts per reason cover the rest). */
const MAX_LISTED_ERRORS = 100;

class BodyError extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
    readonly expected: string,
  ) {
    super(message);
  }
}

async function decodedBody(request: FastifyRequest, maxBytes: number): Promise<Buffer> {
  const body = request.body;
  const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip') throw new BodyError(400, `unsupported Content-Encoding "${encoding}"`, 'gzip or no Content-Encoding');
  try {
    return await gunzip(raw, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new BodyError(413, `the decompressed body is over ${maxBytes} bytes`, `at most ${maxBytes} bytes once decompressed`);
    }
    throw new BodyError(400, `the body is not valid gzip: ${(err as Error).message}`, 'a gzip stream (Content-Encoding: gzip)');
  }
}

function isNdjson(request: FastifyRequest, body: Buffer): boolean {
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('ndjson') || type.includes('jsonl')) return true;
  if (type.includes('application/json')) return false;
  // No or generic content type: a body starting with `[` is a JSON array.
  for (const byte of body) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte !== 0x5b;
  }
  return true;
}

/** Every event of the body, prepared or rejected with its reason (blank NDJSON lines are skipped). */
function prepareBody(request: FastifyRequest, body: Buffer, opts: { mapper?: EventMapper | undefined; gameId: string }): RawVerdict[] {
  if (isNdjson(request, body)) {
    const out: RawVerdict[] = [];
    let start = 0;
    while (start <= body.length) {
      let end = body.indexOf(0x0a, start);
      if (end === -1) end = body.length;
      let line = body.subarray(start, end);
      if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      start = end + 1;
      const verdict = classifyRawValue(line, opts);
      if (verdict.kind === 'reject' && verdict.reason === 'blank') continue;
      out.push(verdict);
    }
    return out;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new BodyError(400, `the body is not valid JSON: ${(err as Error).message}`, 'a JSON array of events, or NDJSON (Content-Type: application/x-ndjson)');
  }
  if (!Array.isArray(parsed)) throw new BodyError(400, 'the body is JSON but not an array', 'a JSON array of events (or NDJSON, one event per line)');
  return parsed.map((item) => prepareEvent(item, undefined, opts));
}

function refuse(reply: FastifyReply, status: number, error: string, expected: string, retryAfterSeconds?: number): FastifyReply {
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  return reply.code(status).send({ error, expected });
}

export async function collectorRoutes(app: FastifyInstance, options: CollectorRouteOptions): Promise<void> {
  const { committer, limits } = options;
  const rates = new KeyRates(limits.eventsPerSecondPerKey, limits.burstEventsPerKey);

  // Bodies arrive as bytes: gzip and NDJSON are decoded by the route, within its limits.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.maxBodyBytes }, (_request, body, done) => done(null, body));

  app.post(
    '/v1/events',
    { bodyLimit: limits.maxBodyBytes, config: { access: 'ingest', rateLimit: false } },
    async (request, reply) => {
      const principal = request.principal;
      if (!principal || principal.role !== 'ingest' || !principal.gameId) {
        return refuse(reply, 403, 'only an ingest key may send events', 'Authorization: Bearer KEY from `gamepipe key create --game GAME`');
      }
      const wait = rates.waitSeconds(principal.tokenId);
      if (wait > 0) {
        return refuse(reply, 429, `key ${principal.name} is over its rate of ${limits.eventsPerSecondPerKey} events/s`, 'fewer events per second from this key', wait);
      }
      let items: RawVerdict[];
      try {
        const body = await decodedBody(request, limits.maxBodyBytes);
        items = prepareBody(request, body, { mapper: options.mappers?.get(principal.gameId), gameId: principal.gameId });
      } catch (err) {
        if (err instanceof BodyError) return refuse(reply, err.status, err.message, err.expected);
        throw err;
      }
      if (items.length > limits.maxBatchEvents) {
        return refuse(reply, 413, `the batch has ${items.length} events, over the limit of ${limits.maxBatchEvents}`, `at most ${limits.maxBatchEvents} events per request`);
      }
      rates.take(principal.tokenId, items.length);
      try {
        await committer.submit({ source: `http:${principal.name}`, gameId: principal.gameId, items });
      } catch (err) {
        if (err instanceof QueueFullError) return refuse(reply, 503, err.message, 'retry after the Retry-After delay', 1);
        request.log.error({ err }, 'collector write failed');
        return refuse(reply, 503, `the events could not be written: ${(err as Error).message}`, 'retry after the Retry-After delay', 1);
      }
      const reasons: Record<string, number> = {};
      const errors: Array<{ index: number; reason: string; detail?: string }> = [];
      let accepted = 0;
      items.forEach((item, index) => {
        if (item.kind === 'event') {
          accepted++;
          return;
        }
        reasons[item.reason] = (reasons[item.reason] ?? 0) + 1;
        if (errors.length < MAX_LISTED_ERRORS) errors.push({ index, reason: item.reason, ...(item.detail ? { detail: item.detail } : {}) });
      });
      return { accepted, rejected: items.length - accepted, reasons, errors };
    },
  );
}

import { describe, expect, it } from 'vitest';
import { parseBrokers, parseDuration, parseKafkaUrl, parseRate } from '../../src/stream/config.js';
import { generatedDays } from '../../src/stream/generate.js';
import { installKey, type InstallStore } from '../../src/stream/installs.js';
import { MemoryBroker } from '../../src/stream/memory.js';
import { BoundedIdSet, QualityProcessor, type DeadLetter, type EnrichedEvent } from '../../src/stream/quality.js';
import { classifyRawValue, parseEventTimestamp } from '../../src/stream/rawEvent.js';
import type { StreamRecord } from '../../src/stream/transport.js';
import { errorText } from '../helpers/errors.js';

describe('stream options', () => {
  it('parses kafka:// targets, rates, durations and broker lists, and names the option when wrong', async () => {
    expect(parseKafkaUrl('kafka://127.0.0.1:9092/events-raw')).toEqual({ brokers: ['127.0.0.1:9092'], topic: 'events-raw' });
    expect(parseKafkaUrl('kafka://a:1,b:2/t.x_y')).toEqual({ brokers: ['a:1', 'b:2'], topic: 't.x_y' });
    expect(parseRate('500/s')).toBe(500);
    expect(parseRate('1.5k/s')).toBe(1500);
    expect(parseRate('20')).toBe(20);
    expect(parseRate(undefined)).toBeUndefined();
    expect(parseDuration('2m', '--x')).toBe(120_000);
    expect(parseDuration('90s', '--x')).toBe(90_000);
    expect(parseDuration('500ms', '--x')).toBe(500);
    expect(parseDuration('3', '--x')).toBe(3000);
    expect(parseBrokers('h1:9092, h2:9093')).toEqual(['h1:9092', 'h2:9093']);
    expect(await errorText(async () => parseKafkaUrl('http://x:1/t'))).toMatch(/^--to: "http:\/\/x:1\/t" is not a Kafka URL\n {2}expected: kafka:\/\/HOST:PORT\/TOPIC/);
    expect(await errorText(async () => parseRate('fast'))).toMatch(/^--rate: "fast" is not a rate/);
    expect(await errorText(async () => parseDuration('soon', '--allowed-lateness'))).toMatch(/^--allowed-lateness: "soon" is not a duration/);
    expect(await errorText(async () => parseBrokers('nohost'))).toMatch(/^--brokers: "nohost" is not a broker list/);
  });
});

describe('raw record checks (the stream twin of ingestion)', () => {
  it('reads timestamps as ingestion does: ISO with a zone exactly, real calendar dates only', () => {
    expect(parseEventTimestamp('2024-05-01T13:45:12.345Z')).toBe(Date.parse('2024-05-01T13:45:12.345Z'));
    expect(parseEventTimestamp('2024-05-01T15:45:12+02:00')).toBe(Date.parse('2024-05-01T13:45:12Z'));
    expect(parseEventTimestamp('2024-05-01 13:45:12')).toBe(Date.parse('2024-05-01T13:45:12Z'));
    expect(parseEventTimestamp('2024-02-30T00:00:00Z')).toBeNull();
    expect(parseEventTimestamp('2024-05-01T24:00:00Z')).toBeNull();
    expect(parseEventTimestamp('yesterday')).toBeNull();
    expect(parseEventTimestamp(1714567890)).toBeNull();
    expect(parseEventTimestamp(null)).toBeUndefined();
    expect(parseEventTimestamp(undefined)).toBeUndefined();
  });

  it('classifies values with ingestion\'s quarantine reasons', () => {
    const reason = (v: Buffer | null) => {
      const c = classifyRawValue(v);
      return c.kind === 'reject' ? c.reason : 'event';
    };
    expect(reason(null)).toBe('blank');
    expect(reason(Buffer.from('  '))).toBe('blank');
    expect(reason(Buffer.from([0x7b, 0xff, 0x7d]))).toBe('invalid_utf8');
    expect(reason(Buffer.from('{"eventId":'))).toBe('invalid_json');
    expect(reason(Buffer.from('[1,2]'))).toBe('not_an_object');
    expect(reason(Buffer.from('{"eventId":"a"}'))).toBe('missing_timestamp');
    expect(reason(Buffer.from('{"timestamp":"soon"}'))).toBe('invalid_timestamp');
    expect(reason(Buffer.from('{"timestamp":"2024-05-01T00:00:00Z"}'))).toBe('event');
  });
});

describe('BoundedIdSet', () => {
  it('remembers the last N ids and forgets the oldest first', () => {
    const s = new BoundedIdSet(3);
    for (const id of ['a', 'b', 'c', 'a', 'd']) s.add(id);
    expect(s.size).toBe(3);
    expect(s.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((id) => s.has(id))).toBe(true);
  });
});

class MemoryInstalls implements InstallStore {
  readonly installs = new Map<string, number>();
  async lookup(keys: ReadonlyArray<readonly [string, string]>) {
    const out = new Map<string, number>();
    for (const [g, u] of keys) {
      const v = this.installs.get(installKey(g, u));
      if (v !== undefined) out.set(installKey(g, u), v);
    }
    return out;
  }
  async record(list: ReadonlyArray<{ gameId: string; userId: string; ts: number }>) {
    for (const i of list) {
      const k = installKey(i.gameId, i.userId);
      this.installs.set(k, Math.min(i.ts, this.installs.get(k) ?? Infinity));
    }
  }
}

function records(values: string[], partition = 0, from = 0): StreamRecord[] {
  return values.map((v, i) => ({
    topic: 'events-raw',
    partition,
    offset: BigInt(from + i),
    key: Buffer.from('u1'),
    value: Buffer.from(v),
    timestamp: Date.parse('2024-05-01T12:00:00Z'),
  }));
}

const ev = (over: Record<string, unknown>) =>
  JSON.stringify({ eventId: 'e1', eventName: 'login', timestamp: '2024-05-01T08:00:05Z', gameId: 'game_1', userId: 'u1', platform: 'Android', countryCode: 'VN', properties: { level: 1, ip: '1.2.3.4' }, ...over });

describe('QualityProcessor', () => {
  it('normalizes valid events, dead-letters invalid ones with the silver rule names, drops duplicates', async () => {
    const installs = new MemoryInstalls();
    const q = new QualityProcessor(installs);
    const batch = await q.process(
      records([
        ev({ eventId: 'r1', eventName: 'register', timestamp: '2024-05-01T08:00:00Z', properties: {} }),
        ev({ eventId: 'e1', platform: 'ANDROID', countryCode: 'vn' }),
        ev({ eventId: 'e1', platform: 'ANDROID', countryCode: 'vn' }),
        ev({ eventId: 'e2', timestamp: '2024-05-01T07:00:00Z' }),
        ev({ eventId: 'e3', countryCode: 'XX' }),
        ev({ eventId: 'e4', eventName: 'tutorial_step' }),
        '{"eventId":"e5","eventName":"login"',
      ]),
    );
    batch.accept();
    expect(batch.counts).toMatchObject({ consumed: 7, valid: 3, invalid: 3, duplicates: 1 });
    expect(batch.counts.byReason).toEqual({ before_install: 1, unknown_country: 1, invalid_json: 1 });
    expect(installs.installs.get(installKey('game_1', 'u1'))).toBe(Date.parse('2024-05-01T08:00:00Z'));

    const enriched = batch.out.filter((r) => r.topic === 'events-enriched').map((r) => JSON.parse(String(r.value)) as EnrichedEvent);
    expect(enriched.map((e) => e.eventId)).toEqual(['r1', 'e1', 'e4']);
    const e1 = enriched[1]!;
    expect(e1.platform).toBe('Android');
    expect(e1.countryCode).toBe('VN');
    expect(e1.enrichment).toMatchObject({ countryName: 'Vietnam', normalizedFields: ['platform', 'countryCode'], warnings: [] });
    expect(e1.enrichment.eventTs).toBe(Date.parse('2024-05-01T08:00:05Z'));
    expect(enriched[2]!.enrichment.warnings).toEqual(['unknown_event_name']);

    const dlq = batch.out.filter((r) => r.topic === 'events-dlq').map((r) => JSON.parse(String(r.value)) as DeadLetter);
    expect(dlq.map((d) => [d.eventId, d.reasons, d.source.offset])).toEqual([
      ['e2', ['before_install'], '3'],
      ['e3', ['unknown_country'], '4'],
      [null, ['invalid_json'], '6'],
    ]);
    expect(dlq[2]!.raw).toBe('{"eventId":"e5","eventName":"login"');

    // The next batch still knows e1 (dedup window) and the install (store).
    const next = await q.process(records([ev({ eventId: 'e1' }), ev({ eventId: 'e6', timestamp: '2024-05-01T07:59:59Z' })], 0, 7));
    expect(next.counts).toMatchObject({ consumed: 2, valid: 0, invalid: 1, duplicates: 1 });
  });

  it('enriches a level event without boosters or egp with the catalog defaults, as silver types it', async () => {
    const q = new QualityProcessor(new MemoryInstalls());
    const batch = await q.process(records([
      ev({ eventId: 'l1', eventName: 'level_start', properties: { levelId: 3 } }),
      ev({ eventId: 'l2', eventName: 'level_failed', properties: { levelId: 3, boosters: { hammer: 1 }, egp: null } }),
      ev({ eventId: 'l3', eventName: 'level_start', properties: { boosters: {}, egp: 0 } }),
    ]));
    const enriched = batch.out.filter((r) => r.topic === 'events-enriched').map((r) => JSON.parse(String(r.value)) as EnrichedEvent);
    expect(enriched.map((e) => [e.eventId, e.properties])).toEqual([
      ['l1', { levelId: 3, boosters: {}, egp: 0 }],
      ['l2', { levelId: 3, boosters: { hammer: 1 }, egp: 0 }],
    ]);
    const dlq = batch.out.filter((r) => r.topic === 'events-dlq').map((r) => JSON.parse(String(r.value)) as DeadLetter);
    expect(dlq.map((d) => [d.eventId, d.reasons])).toEqual([['l3', ['missing_required_property']]]);
  });

  it('does not remember a batch whose outputs were never accepted (a failed produce is retried in full)', async () => {
    const q = new QualityProcessor(new MemoryInstalls());
    const first = await q.process(records([ev({ eventId: 'x1' })]));
    expect(first.counts.valid).toBe(1);
    const again = await q.process(records([ev({ eventId: 'x1' })]));
    expect(again.counts).toMatchObject({ valid: 1, duplicates: 0 });
  });
});

describe('generated events as a stream', () => {
  it('come in arrival order: clock-skewed and late events arrive when the user\'s previous event did', () => {
    const it = generatedDays({ games: 1, users: 40, days: 2, start: '2024-05-01', seed: 3, dirtyRate: 0.05 });
    let r = it.next();
    let events = 0;
    while (!r.done) {
      const day = r.value;
      for (let i = 1; i < day.events.length; i++) expect(day.events[i]!.arrival).toBeGreaterThanOrEqual(day.events[i - 1]!.arrival);
      for (const e of day.events) expect(e.value.includes(10)).toBe(false);
      events += day.events.length;
      r = it.next();
    }
    expect(events).toBe(r.value.days.reduce((a, d) => a + d.lines, 0));
  });
});

describe('MemoryBroker', () => {
  it('partitions by key like Kafka, commits per group, and ends a consumer once a closed topic is read', async () => {
    const broker = new MemoryBroker();
    await broker.ensureTopics([{ name: 't', partitions: 3 }]);
    const producer = await broker.producer();
    await producer.send(Array.from({ length: 30 }, (_, i) => ({ topic: 't', key: `user${i % 5}`, value: String(i) })));
    const parts = broker.topic('t').partitions;
    for (const log of parts) for (const r of log) expect(parts.findIndex((l) => l.some((x) => x.key?.equals(r.key!)))).toBe(r.partition);
    const c1 = await broker.consumer({ groupId: 'g', topics: ['t'] });
    const got = (await c1.poll({ maxRecords: 12, maxWaitMs: 10 }))!;
    expect(got).toHaveLength(12);
    await c1.commit(got);
    const c2 = await broker.consumer({ groupId: 'g', topics: ['t'] });
    broker.closeTopic('t');
    let rest = 0;
    for (let b = await c2.poll({ maxRecords: 100, maxWaitMs: 10 }); b !== null; b = await c2.poll({ maxRecords: 100, maxWaitMs: 10 })) rest += b.length;
    expect(rest).toBe(18);
  });
});

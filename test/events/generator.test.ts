import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamepipeError } from '../../src/core/errors.js';
import {
  ENVELOPE_FIELD_NAMES,
  EVENT_NAMES,
  ITEM_IDS,
  REQUIRED_PROPERTIES,
  hasJsonType,
  isEventName,
} from '../../src/events/catalog.js';
import {
  DEFECT,
  DEFECT_NAMES,
  NdjsonEncoder,
  generateEvents,
  readParquetEvents,
  rowToEvent,
  writeGenerated,
  type EventBatch,
  type GenerateOptions,
  type GenerationSummary,
  type Manifest,
} from '../../src/events/generator/index.js';
import { GENERATED_ITEM_IDS } from '../../src/events/generator/behaviour.js';
import { NativeParquetWriter } from '../../src/events/generator/parquet/nativeWriter.js';
import { classify, readDays } from './helpers/classify.js';
import { validate } from './helpers/miniSchema.js';

const SMALL: GenerateOptions = { games: 2, users: 400, days: 6, start: '2024-03-01', seed: 11 };
const DIRTY: GenerateOptions = { ...SMALL, dirtyRate: 0.06 };

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-events-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function collect(options: GenerateOptions): { batches: EventBatch[]; summary: GenerationSummary } {
  const it = generateEvents(options);
  const batches: EventBatch[] = [];
  let r = it.next();
  while (!r.done) {
    batches.push(r.value);
    r = it.next();
  }
  return { batches, summary: r.value };
}

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}

describe('generateEvents', () => {
  it('streams batches: several per day when the day is bigger than batchSize, each bounded', () => {
    const { batches } = collect({ ...SMALL, batchSize: 500 });
    const days = new Set(batches.map((b) => b.day));
    expect(days.size).toBe(SMALL.days);
    expect(batches.length).toBeGreaterThan(2 * SMALL.days);
    expect(batches.filter((b) => b.lastOfDay)).toHaveLength(SMALL.days);
    // A batch is handed over as soon as it holds batchSize rows (plus at most one user-day).
    for (const b of batches) expect(b.size).toBeLessThan(500 + 2000);
    // Batches are independent objects (nothing is reused under the consumer's feet).
    expect(batches[0]!.eventName).not.toBe(batches[1]!.eventName);
  });

  it('gives the same events whatever the batch size', () => {
    const lines = (batchSize: number) => {
      const { batches } = collect({ ...DIRTY, batchSize });
      const enc = new NdjsonEncoder(batches[0]!.dict);
      return batches.flatMap((b) => Array.from({ length: b.size }, (_, i) => enc.line(b, i)));
    };
    expect(lines(333)).toEqual(lines(100_000));
  });

  it('clean events carry every envelope field and the catalog properties with their JSON types', () => {
    const { batches } = collect(SMALL);
    const seenNames = new Set<string>();
    const problems: string[] = [];
    let rows = 0;
    for (const b of batches) {
      for (let i = 0; i < b.size; i++) {
        rows++;
        const e = rowToEvent(b, i);
        const where = JSON.stringify(e);
        if (b.defect[i] !== 0) problems.push(`defect without dirtyRate: ${where}`);
        for (const f of ENVELOPE_FIELD_NAMES) if (e[f] === undefined) problems.push(`no ${f}: ${where}`);
        if (!isEventName(e.eventName)) {
          problems.push(`unknown event: ${where}`);
          continue;
        }
        const name = e.eventName;
        seenNames.add(name);
        const props = e.properties as Record<string, unknown>;
        for (const p of REQUIRED_PROPERTIES[name]) {
          if (!hasJsonType(props[p.name], p.type)) problems.push(`${name}.${p.name} is not ${p.type}: ${where}`);
        }
        if (String(e.timestamp).slice(0, 10) !== b.day) problems.push(`not on ${b.day}: ${where}`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(rows).toBeGreaterThan(10_000);
    // Every catalog event occurs in a few days of 400 players.
    expect([...seenNames].sort()).toEqual([...EVENT_NAMES].sort());
  });

  it('clean events validate against their JSON Schema', () => {
    const { batches } = collect({ ...SMALL, days: 3 });
    const checked = new Set<string>();
    for (const b of batches) {
      for (let i = 0; i < b.size; i++) {
        const e = rowToEvent(b, i);
        const name = e.eventName as string;
        // One of each per batch keeps the test fast.
        if (checked.has(`${b.day}/${name}`)) continue;
        checked.add(`${b.day}/${name}`);
        const file = path.resolve('schemas/events', `${name}.schema.json`);
        const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
        expect(validate(schema, e, file), JSON.stringify(e)).toEqual([]);
      }
    }
  });

  it('uses only catalog item ids', () => {
    for (const id of GENERATED_ITEM_IDS) expect(ITEM_IDS).toContain(id);
  });

  it('has realistic signal: new installs every day, retention decays, a few % payers, farms on shared IPs', () => {
    const { summary } = collect({ games: 1, users: 3000, days: 14, start: '2024-03-01', seed: 5 });
    const days = summary.days;
    for (const d of days) expect(d.truth.installs).toBeGreaterThan(0);
    const payerShare = summary.population.payerAccounts / summary.population.accounts;
    expect(payerShare).toBeGreaterThan(0.02);
    expect(payerShare).toBeLessThan(0.07);
    expect(summary.population.whales).toBeGreaterThan(0);
    expect(summary.population.payingUsers).toBeGreaterThan(0);
    const farms = summary.population.botFarmers;
    expect(farms.clusters.length).toBeGreaterThan(0);
    for (const c of farms.clusters) {
      expect(c.userIds.length).toBeGreaterThanOrEqual(5);
      expect(c.userIds.length).toBeLessThanOrEqual(20);
    }
    expect(new Set(farms.ips).size).toBe(farms.ips.length);
    expect(farms.accounts / summary.population.accounts).toBeLessThan(0.03);
    // Players who installed on day 0 and are active later: fewer and fewer.
    expect(days[13]!.truth.activeUsers).toBeLessThan(days.slice(0, 14).reduce((n, d) => n + d.truth.installs, 0));
    const byName = summary.eventsByName;
    expect(byName.store_view!).toBeGreaterThan(byName.offer_click!);
    expect(byName.offer_click!).toBeGreaterThan(byName.order!);
    expect(byName.order!).toBeGreaterThan(byName.purchase!);
    expect(byName.level_failed!).toBeGreaterThan(0.1 * byName.level_complete!);
  });

  it('rejects bad options with a clear error', () => {
    expect(() => collect({ ...SMALL, start: '2024-02-30' })).toThrow(GamepipeError);
    expect(() => collect({ ...SMALL, users: 0 })).toThrow(/users/);
    expect(() => collect({ ...SMALL, dirtyRate: 2 })).toThrow(/dirty/);
  });

  it('encodes clean rows on the fast path exactly like the generic path', () => {
    const { batches } = collect({ ...DIRTY, days: 2 });
    const enc = new NdjsonEncoder(batches[0]!.dict);
    for (const b of batches) {
      for (let i = 0; i < b.size; i += 7) expect(enc.fastLine(b, i)).toBe(enc.line(b, i));
    }
  });
});

describe('writeGenerated', () => {
  it('is deterministic: same options give byte-identical files, another seed gives different data', async () => {
    const a = path.join(tmp, 'det-a');
    const b = path.join(tmp, 'det-b');
    const c = path.join(tmp, 'det-c');
    await writeGenerated({ ...DIRTY, out: a, format: 'ndjson' });
    await writeGenerated({ ...DIRTY, out: b, format: 'ndjson' });
    await writeGenerated({ ...DIRTY, seed: 12, out: c, format: 'ndjson' });
    const fa = filesOf(a);
    const fb = filesOf(b);
    expect([...fa.keys()]).toEqual([...fb.keys()]);
    for (const [name, bytes] of fa) expect(bytes.equals(fb.get(name)!), name).toBe(true);
    const first = [...fa.keys()][0]!;
    expect(fa.get(first)!.equals(filesOf(c).get(first)!)).toBe(false);
    // Parquet too is byte-identical run after run.
    const p1 = path.join(tmp, 'det-p1');
    const p2 = path.join(tmp, 'det-p2');
    await writeGenerated({ ...DIRTY, days: 2, out: p1, format: 'parquet' });
    await writeGenerated({ ...DIRTY, days: 2, out: p2, format: 'parquet' });
    const q1 = filesOf(p1);
    const q2 = filesOf(p2);
    expect([...q1.keys()]).toEqual([...q2.keys()]);
    for (const [name, bytes] of q1) expect(bytes.equals(q2.get(name)!), name).toBe(true);
  });

  it('keeps clean events the same whatever the dirty rate', async () => {
    const clean = path.join(tmp, 'rate-0');
    await writeGenerated({ ...SMALL, out: clean, format: 'ndjson' });
    const { batches } = collect(DIRTY);
    const enc = new NdjsonEncoder(batches[0]!.dict);
    const dirtyClean = new Set(batches.flatMap((b) => Array.from({ length: b.size }, (_, i) => i).filter((i) => b.defect[i] === 0).map((i) => enc.line(b, i))));
    const all = readDays(clean).flatMap((d) => d.lines);
    // Every clean line of the dirty data set is a line of the clean data set.
    const cleanSet = new Set(all);
    for (const line of dirtyClean) expect(cleanSet.has(line)).toBe(true);
    expect(dirtyClean.size).toBeGreaterThan(0.85 * all.length);
  });

  it('counts every injected defect exactly: the manifest equals an independent parse of the files', async () => {
    const out = path.join(tmp, 'dirty');
    const stats = await writeGenerated({ ...DIRTY, out, format: 'ndjson' });
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.totals.lines).toBe(stats.events);
    const found = classify(out, manifest.period.futureAfter);
    expect(found.map((d) => d.day)).toEqual(manifest.files.map((f) => f.day));
    let totalDefects = 0;
    for (const [d, day] of found.entries()) {
      const file = manifest.files[d]!;
      expect(day.lines, file.file).toBe(file.lines);
      expect(day.counts.clean, file.file).toBe(file.clean);
      for (const kind of DEFECT_NAMES) {
        expect(day.counts[kind], `${file.file} ${kind}`).toBe(file.defects[kind]);
        totalDefects += file.defects[kind];
      }
      expect(day.missingFields).toEqual(file.missingFields);
      expect(day.missingProperties).toEqual(file.missingProperties);
    }
    // Every kind occurs, at roughly the requested rate.
    for (const kind of DEFECT_NAMES) expect(manifest.totals.defects[kind], kind).toBeGreaterThan(0);
    expect(totalDefects / manifest.totals.lines).toBeGreaterThan(0.03);
    expect(totalDefects / manifest.totals.lines).toBeLessThan(0.09);
    // Farm accounts are listed and really share their IP.
    const ips = new Map<string, Set<string>>();
    for (const { lines } of readDays(out)) {
      for (const line of lines) {
        try {
          const e = JSON.parse(line) as { eventName?: string; userId?: string; properties?: { ip?: string } };
          if (e.eventName === 'login' && e.userId && e.properties?.ip) {
            if (!ips.has(e.properties.ip)) ips.set(e.properties.ip, new Set());
            ips.get(e.properties.ip)!.add(e.userId);
          }
        } catch {
          // malformed
        }
      }
    }
    for (const cluster of manifest.population.botFarmers.clusters) {
      const users = ips.get(cluster.ip) ?? new Set<string>();
      for (const u of users) expect(cluster.userIds).toContain(u);
      expect(users.size).toBeGreaterThan(1);
    }
  });

  it('writes Parquet that reads back as the same events as the NDJSON (malformed lines omitted)', async () => {
    const nd = path.join(tmp, 'rt-ndjson');
    const pq = path.join(tmp, 'rt-parquet');
    const options = { ...DIRTY, days: 3 };
    await writeGenerated({ ...options, out: nd, format: 'ndjson' });
    const stats = await writeGenerated({ ...options, out: pq, format: 'parquet' });
    const manifest = stats.manifest;
    expect(manifest.totals.defects.malformed_json).toBe(0);
    expect(manifest.totals.omitted).toBeGreaterThan(0);
    for (const { day, lines } of readDays(nd)) {
      const expected = lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as unknown];
        } catch {
          return [];
        }
      });
      const actual = await readParquetEvents(path.join(pq, `events-${day}.parquet`));
      expect(actual.length, day).toBe(expected.length);
      expect(actual).toEqual(expected);
      const report = manifest.files.find((f) => f.day === day)!;
      expect(report.lines).toBe(actual.length);
    }
  });

  it('native Parquet equals the DuckDB-written reference, compressed or not', async () => {
    const options = { ...DIRTY, days: 2 };
    const ref = path.join(tmp, 'pq-duckdb');
    await writeGenerated({ ...options, out: ref, format: 'parquet', parquetWriter: 'duckdb' });
    for (const compression of ['gzip', 'none'] as const) {
      const out = path.join(tmp, `pq-native-${compression}`);
      await writeGenerated({ ...options, out, format: 'parquet', parquetCompression: compression });
      for (const day of ['2024-03-01', '2024-03-02']) {
        const file = `events-${day}.parquet`;
        expect(await readParquetEvents(path.join(out, file)), `${compression} ${file}`).toEqual(await readParquetEvents(path.join(ref, file)));
      }
    }
  });

  it('native Parquet holds many pages and row groups per file correctly', async () => {
    const out = path.join(tmp, 'pq-groups');
    fs.mkdirSync(out, { recursive: true });
    const writer = new NativeParquetWriter(out, 'gzip', 1000);
    const expected = new Map<string, unknown[]>();
    const { batches } = collect({ ...DIRTY, days: 2, batchSize: 400 });
    const enc = new NdjsonEncoder(batches[0]!.dict);
    for (const b of batches) {
      const list = expected.get(b.day) ?? [];
      for (let i = 0; i < b.size; i++) if (b.defect[i] !== DEFECT.malformed_json) list.push(JSON.parse(enc.line(b, i)) as unknown);
      expected.set(b.day, list);
      const wait = writer.write(b);
      if (wait) await wait;
      if (b.lastOfDay) await writer.finishDay(b.day);
    }
    await writer.close();
    for (const [day, events] of expected) {
      expect(events.length).toBeGreaterThan(3000);
      expect(await readParquetEvents(path.join(out, `events-${day}.parquet`))).toEqual(events);
    }
  });

  it('replaces an earlier data set in the same directory', async () => {
    const out = path.join(tmp, 'replace');
    await writeGenerated({ ...SMALL, days: 4, out, format: 'ndjson' });
    await writeGenerated({ ...SMALL, days: 2, out, format: 'ndjson' });
    expect(fs.readdirSync(out).sort()).toEqual(['events-2024-03-01.ndjson', 'events-2024-03-02.ndjson', 'manifest.json']);
  });
});

describe('defect codes', () => {
  it('keeps DEFECT codes aligned with the manifest names', () => {
    expect(DEFECT_NAMES.map((k) => DEFECT[k])).toEqual(DEFECT_NAMES.map((_, i) => i + 1));
  });
});

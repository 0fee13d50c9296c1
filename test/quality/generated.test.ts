import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGenerated, type Manifest } from '../../src/events/generator/index.js';
import { ingestFiles, type FileIngestResult } from '../../src/ingest/ingest.js';
import { IngestionLedger } from '../../src/ingest/ledger.js';
import { computeQualityReport, type QualityReport } from '../../src/quality/report.js';
import { RULE_NAMES } from '../../src/quality/rules.js';
import { buildSilverDay } from '../../src/quality/silver.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';

/**
 * End to end on generated dirty data: generator → ingest → silver → quality report, and every
 * defect the generator's manifest counts is found exactly, with nothing lost.
 */

function bronzeDays(ws: Workspace): string[] {
  return fs.readdirSync(path.join(ws.paths.lake, 'bronze/events')).map((d) => d.replace(/^ds=/, '')).sort();
}

function bronzeFiles(ws: Workspace): string[] {
  return fs.readdirSync(path.join(ws.paths.lake, 'bronze/events'), { recursive: true }).map(String).filter((f) => f.endsWith('.parquet')).sort();
}

function sum(reports: QualityReport[], pick: (r: QualityReport) => number | undefined): number {
  return reports.reduce((total, r) => total + (pick(r) ?? 0), 0);
}

describe('generated dirty data: the quality report finds every defect of the manifest', () => {
  let ws: Workspace;
  let manifest: Manifest;
  let files: string[];
  let ingested: FileIngestResult[];
  let reports: QualityReport[];

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    const out = path.join(ws.dir, 'generated');
    const stats = await writeGenerated({ games: 2, users: 1500, days: 3, start: '2024-05-01', seed: 7, dirtyRate: 0.25, out, format: 'ndjson' });
    manifest = stats.manifest;
    files = stats.files.map((f) => path.join(out, f));
    ingested = await ingestFiles(files, ws.paths, { source: 'generator' });
    reports = [];
    for (const day of bronzeDays(ws)) {
      await buildSilverDay(day, { paths: ws.paths, connections: ws.connections });
      reports.push((await computeQualityReport(day, { paths: ws.paths, connections: ws.connections })).report);
    }
  });
  afterAll(() => ws.close());

  it('the data set has every kind of defect (so the comparison below means something)', () => {
    for (const [kind, count] of Object.entries(manifest.totals.defects)) expect(count, kind).toBeGreaterThan(0);
  });

  it('nothing is lost: every line is in bronze or in quarantine, and every day reconciles', () => {
    expect(ingested.map((r) => r.status)).toEqual(files.map(() => 'ingested'));
    expect(ingested.map((r) => r.lines)).toEqual(manifest.files.map((f) => f.lines));
    expect(ingested.map((r) => r.events + r.quarantined + r.blankLines)).toEqual(manifest.files.map((f) => f.lines));
    expect(sum(reports, (r) => r.raw) + sum(reports, (r) => r.quarantined)).toBe(manifest.totals.lines);
    for (const r of reports) {
      expect(r.reconciliation.holds, r.ds).toBe(true);
      expect(r.raw, r.ds).toBe(r.valid + r.invalid + r.duplicates);
    }
  });

  it('each defect kind is counted exactly', () => {
    const d = manifest.totals.defects;
    const rule = (name: string) => sum(reports, (r) => r.invalidByRule[name]);
    const quarantined = (reason: string) => sum(reports, (r) => r.quarantinedByReason[reason]);
    const found = {
      duplicate: sum(reports, (r) => r.duplicates),
      // a missing timestamp leaves no event day: those lines are quarantined, the others flagged
      missing_field: rule('missing_required_field') + quarantined('missing_timestamp'),
      missing_property: rule('missing_required_property'),
      negative_amount: rule('negative_amount'),
      absurd_amount: rule('absurd_amount'),
      unknown_country: rule('unknown_country'),
      mixed_case_platform: sum(reports, (r) => r.normalized.platform),
      future_timestamp: rule('future_timestamp'),
      before_install: rule('before_install'),
      late_arrival: sum(reports, (r) => r.lateArrivals),
      unknown_event_name: sum(reports, (r) => r.flaggedByRule.unknown_event_name),
      malformed_json: quarantined('invalid_json'),
    };
    expect(found).toEqual(d);
  });

  it('missing fields and properties match by name', () => {
    const missing = (name: string) => sum(reports, (r) => r.missingFields[name]);
    const fields = Object.fromEntries(
      Object.keys(manifest.totals.missingFields).map((f) => [f, f === 'timestamp' ? sum(reports, (r) => r.quarantinedByReason.missing_timestamp) : missing(f)]),
    );
    expect(fields).toEqual(manifest.totals.missingFields);
    const properties = Object.fromEntries(Object.keys(manifest.totals.missingProperties).map((p) => [p, missing(`properties.${p}`)]));
    expect(properties).toEqual(manifest.totals.missingProperties);
  });

  it('valid and invalid add up to the manifest, and no other rule or reason fires on generated data', () => {
    const d = manifest.totals.defects;
    expect(sum(reports, (r) => r.valid)).toBe(manifest.totals.clean + d.late_arrival + d.mixed_case_platform + d.unknown_event_name);
    expect(sum(reports, (r) => r.invalid)).toBe(
      d.missing_field - manifest.totals.missingFields.timestamp! + d.missing_property + d.negative_amount + d.absurd_amount +
        d.unknown_country + d.future_timestamp + d.before_install,
    );
    const fired = new Set(reports.flatMap((r) => Object.entries({ ...r.invalidByRule, ...r.flaggedByRule }).filter(([, n]) => n > 0).map(([k]) => k)));
    expect([...fired].sort()).toEqual(
      ['missing_required_field', 'missing_required_property', 'negative_amount', 'absurd_amount', 'unknown_country', 'future_timestamp', 'before_install', 'unknown_event_name'].sort(),
    );
    expect(RULE_NAMES.filter((n) => !fired.has(n)).sort()).toEqual(['invalid_field_type', 'invalid_property_type', 'invalid_timestamp', 'negative_quantity', 'unknown_platform']);
    expect(new Set(reports.flatMap((r) => Object.keys(r.quarantinedByReason)))).toEqual(new Set(['invalid_json', 'missing_timestamp']));
  });

  it('stores one report row per day in WAREHOUSE.quality_daily, replaced on re-run', async () => {
    const day = reports[1]!.ds;
    const again = (await computeQualityReport(day, { paths: ws.paths, connections: ws.connections })).report;
    expect({ ...again, computedAt: '' }).toEqual({ ...reports[1]!, computedAt: '' });
    const rows = await ws.query<{ ds: string; n: string | number }>(`SELECT to_char(ds, 'YYYY-MM-DD') AS ds, count(*) AS n FROM quality_daily GROUP BY ds ORDER BY ds`);
    expect(rows.map((r) => [r.ds, Number(r.n)])).toEqual(reports.map((r) => [r.ds, 1]));
  });

  it('re-ingesting the same files adds nothing, and silver rebuilt gives the same report', async () => {
    const before = bronzeFiles(ws);
    const again = await ingestFiles(files, ws.paths, { source: 'generator' });
    expect(again.map((r) => r.status)).toEqual(files.map(() => 'skipped'));
    expect(again.map((r) => r.previous?.ingestionId)).toEqual(ingested.map((r) => r.ingestionId));
    expect(bronzeFiles(ws)).toEqual(before);
    expect(new IngestionLedger(ws.paths.lake).all()).toHaveLength(files.length);
    const day = reports[2]!.ds;
    await buildSilverDay(day, { paths: ws.paths, connections: ws.connections });
    const rebuilt = (await computeQualityReport(day, { paths: ws.paths, connections: ws.connections })).report;
    expect({ ...rebuilt, computedAt: '' }).toEqual({ ...reports[2]!, computedAt: '' });
  });
});

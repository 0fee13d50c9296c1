import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ingestCommandAction } from '../../src/cli/commands/ingest.js';
import { qualityCommandAction, silverCommandAction } from '../../src/cli/commands/quality.js';
import { errorText } from '../helpers/errors.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';

/** The command actions the CLI wires up: human output, --json, and errors. */

const EVENTS = [
  '{"eventId":"a1","eventName":"register","timestamp":"2024-05-01T08:00:00Z","gameId":"game_1","userId":"u1","platform":"Android","countryCode":"VN"}',
  '{"eventId":"a2","eventName":"login","timestamp":"2024-05-01T08:00:05Z","gameId":"game_1","userId":"u1","platform":"android","countryCode":"VN","properties":{"level":1,"ip":"1.2.3.4"}}',
  '{"eventId":"a2","eventName":"login","timestamp":"2024-05-01T08:00:05Z","gameId":"game_1","userId":"u1","platform":"android","countryCode":"VN","properties":{"level":1,"ip":"1.2.3.4"}}',
  '{"eventId":"a3","eventName":"purchase","timestamp":"2024-05-01T08:10:00Z","gameId":"game_1","userId":"u1","countryCode":"XX","properties":{"amount":119000,"currency":"VND","productId":"p","paymentChannel":"google_play","transactionId":"t"}}',
  '{"eventId":"a4","eventName":"login"',
];

async function capture<T>(fn: () => Promise<T>): Promise<{ out: string; result: T }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    const result = await fn();
    return { out, result };
  } finally {
    spy.mockRestore();
  }
}

describe('ingest / silver / quality command actions', () => {
  let ws: Workspace;
  let file: string;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    // The actions resolve paths and connections from the environment, as the CLI does.
    for (const key of ['GAMEPIPE_HOME', 'GAMEPIPE_LAKE', 'GAMEPIPE_CONN_WAREHOUSE', 'GAMEPIPE_CONFIG']) {
      saved[key] = process.env[key];
      delete process.env[key];
    }
    process.env.GAMEPIPE_HOME = ws.env.GAMEPIPE_HOME;
    process.env.GAMEPIPE_CONN_WAREHOUSE = ws.env.GAMEPIPE_CONN_WAREHOUSE;
    file = path.join(ws.dir, 'events-2024-05-01.ndjson');
    fs.writeFileSync(file, EVENTS.join('\n') + '\n');
  });
  afterAll(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await ws.close();
  });

  it('ingest prints one summary per file, then reports the re-ingestion as skipped', async () => {
    const { out } = await capture(async () => {
      await ingestCommandAction([file], { source: 'test' });
      await ingestCommandAction([file], {});
    });
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^✔ ${file}: 5 lines → 4 events in bronze, 1 quarantined \\(ingestion \\S+, file day 2024-05-01\\) in \\d+\\.\\d\\d s$`));
    expect(lines[1]).toBe('    partitions: 2024-05-01: 4');
    expect(lines[2]).toBe('    quarantined: invalid_json 1');
    expect(lines[3]).toMatch(new RegExp(`^↷ ${file}: already ingested \\(same content\\) as \\S+ from ${file} at .*; skipped$`));
  });

  it('silver and quality print their summaries, and --json the same figures', async () => {
    const first = await capture(async () => {
      const silver = await silverCommandAction({ date: '2024-05-01' });
      expect(silver).toMatchObject({ rows: 4, valid: 2, invalid: 1, duplicates: 1 });
      const report = await qualityCommandAction({ date: '2024-05-01' });
      expect(report).toMatchObject({ raw: 4, valid: 2, invalid: 1, duplicates: 1, quarantined: 1, normalized: { platform: 1 } });
    });
    const human = first.out;
    const json = (await capture(() => qualityCommandAction({ date: '2024-05-01', json: true }))).out;
    expect(human).toMatch(/^✔ silver 2024-05-01: 4 events \(valid 2, invalid 1, duplicates 1; 0 valid with a warning\) → .*ds=2024-05-01 in \d+\.\d\d s\n/);
    expect(human).toContain(
      [
        'quality 2024-05-01',
        '  raw 4 = valid 2 + invalid 1 + duplicates 1  ✔ reconciled',
        '  invalid by rule: unknown_country 1',
        '  flagged (valid, with a warning): 0',
        '  quarantined lines (files of this day): 1 — invalid_json 1',
        '  late arrivals: 0',
        '  normalized: platform 1, countryCode 0, currency 0',
        '  missing fields: none',
      ].join('\n'),
    );
    const parsed = JSON.parse(json!) as Record<string, unknown>;
    expect(parsed).toMatchObject({ ds: '2024-05-01', raw: 4, valid: 2, invalid: 1, duplicates: 1, reconciliation: { holds: true } });
  });

  it('errors name what was wrong', async () => {
    expect(await errorText(() => capture(() => silverCommandAction({ date: 'tomorrow' })))).toMatch(/^--date: "tomorrow" is not a date/);
    expect(await errorText(() => capture(() => qualityCommandAction({ date: '2024-05-09' })))).toMatch(/nothing was ingested for 2024-05-09/);
    expect(await errorText(() => capture(() => ingestCommandAction([path.join(ws.dir, 'missing.ndjson')])))).toMatch(/missing\.ndjson: cannot read input file: ENOENT/);
  });
});

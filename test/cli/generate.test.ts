import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCommandAction } from '../../src/cli/commands/generate.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-generate-cli-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('generateCommandAction', () => {
  it('takes CLI strings and prints one summary line with the rate', async () => {
    const printed: string[] = [];
    const stats = await generateCommandAction(
      { games: '1', users: '50', days: '2', start: '2024-03-01', seed: '3', out: path.join(tmp, 'cli'), format: 'ndjson', dirty: '0.01' },
      (line) => printed.push(line),
    );
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/generated [\d,]+ events/);
    expect(printed[0]).toMatch(/events\/s/);
    expect(stats.events).toBeGreaterThan(0);
    await expect(
      generateCommandAction({ games: 1, users: 5, days: 1, start: '2024-03-01', seed: 1, out: path.join(tmp, 'cli2'), format: 'csv' }, () => {}),
    ).rejects.toThrow(/ndjson or parquet|format/);
  });
});

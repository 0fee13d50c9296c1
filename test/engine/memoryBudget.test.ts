import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { jobMemoryLimit, parseSize } from '../../src/engine/memoryBudget.js';

describe('DuckDB memory budget of concurrent jobs', () => {
  it('parses sizes in decimal and binary units', () => {
    expect(parseSize('512MB')).toBe(512e6);
    expect(parseSize('3gb')).toBe(3e9);
    expect(parseSize('2GiB')).toBe(2 * 2 ** 30);
    expect(parseSize('1.5 GB')).toBe(1.5e9);
  });

  it('rejects what is not a size, naming the variable', () => {
    for (const bad of ['', '3', 'lots', '-1GB', '0MB', '3 XB']) {
      expect(() => parseSize(bad)).toThrow(/GAMEPIPE_DUCKDB_MEMORY: invalid size/);
    }
  });

  it('splits GAMEPIPE_DUCKDB_MEMORY (default half of RAM) between the jobs that may run at once', () => {
    expect(jobMemoryLimit(2, { GAMEPIPE_DUCKDB_MEMORY: '4GB' })).toBe('2000MB');
    expect(jobMemoryLimit(4, { GAMEPIPE_DUCKDB_MEMORY: '3GB' })).toBe('750MB');
    expect(jobMemoryLimit(1000, { GAMEPIPE_DUCKDB_MEMORY: '1GB' })).toBe('128MB'); // a floor
    expect(jobMemoryLimit(2, {})).toBe(`${Math.floor(os.totalmem() / 2 / 2 / 1e6)}MB`);
  });
});

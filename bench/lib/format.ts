/** Small helpers for benchmark scripts: argument counts, timing and a plain-text table. */

/** `10000000`, `10_000_000`, `10M`, `200k`, `1e6` → a positive integer. */
export function parseCount(text: string, flag: string): number {
  const m = /^(\d+(?:[._]\d+)*(?:e\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!m) throw new Error(`${flag}: "${text}" is not a row count (e.g. 1000000, 1_000_000, 1M, 200k)`);
  const base = Number(m[1]!.replace(/_/g, ''));
  const scale = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[m[2]!] ?? 1;
  const n = Math.round(base * scale);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag}: "${text}" must be a positive whole number`);
  return n;
}

/** Seconds `fn` takes (wall clock, high resolution) and what it returned. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - start) / 1000, value };
}

export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function secs(s: number): string {
  return s.toFixed(s < 10 ? 3 : 2);
}

/** Columns padded to their widest cell; numeric-looking cells are right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = (cell: string) => /^[\d,.x~≈]+\s*[a-z]*$/.test(cell);
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric(c) && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

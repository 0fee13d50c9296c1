import { GamepipeError } from './errors.js';

/**
 * Calendar dates as `YYYY-MM-DD` strings: UTC days, like the lake's `ds=` partitions and the
 * `date` vars of layouts. Every date check and day step in gamepipe goes through these.
 */

export const DAY_MS = 86_400_000;

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Epoch ms of 00:00:00Z of a `YYYY-MM-DD` day, or undefined when it is not a real date. */
export function parseDay(day: string): number | undefined {
  const m = DAY_RE.exec(day);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return formatDay(ms) === day ? ms : undefined;
}

/** `YYYY-MM-DD` of the UTC day containing `ms` (epoch milliseconds or a Date). */
export function formatDay(ms: number | Date): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Today's UTC date. */
export function todayUtc(): string {
  return formatDay(Date.now());
}

/** True for a real calendar date `YYYY-MM-DD` (2024-02-30 is not). */
export function isDate(value: string): boolean {
  return parseDay(value) !== undefined;
}

/** The date, or a GamepipeError naming the option and what was expected. */
export function checkDate(value: string, option = '--date'): string {
  if (!isDate(value)) {
    throw new GamepipeError(`${option}: ${JSON.stringify(value)} is not a date`, { expected: 'a calendar date YYYY-MM-DD, e.g. 2024-05-01' });
  }
  return value;
}

/** Adds whole days to a `YYYY-MM-DD` date (negative: earlier). */
export function addDays(date: string, days: number): string {
  const ms = parseDay(date);
  if (ms === undefined) throw new GamepipeError(`addDays: ${JSON.stringify(date)} is not a date`, { expected: 'a calendar date YYYY-MM-DD' });
  return formatDay(ms + days * DAY_MS);
}

/** How many days `from`..`to` spans, both included (1 for one day). */
export function dayCount(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

/**
 * Every date from `from` to `to`, both included. The error names the bounds as `labels`
 * (e.g. the command's options `--from`/`--to`).
 */
export function dateRange(from: string, to: string, labels: { from: string; to: string } = { from: 'from', to: 'to' }): string[] {
  if (from > to) throw new GamepipeError(`${labels.from} ${from} is after ${labels.to} ${to}`, { expected: `${labels.from} ≤ ${labels.to}` });
  const days: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
  return days;
}

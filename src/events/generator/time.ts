/** UTC day arithmetic. */

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Epoch ms of 00:00:00Z of a `YYYY-MM-DD` day, or undefined when it is not a real date. */
export function parseDay(day: string): number | undefined {
  const m = DAY_RE.exec(day);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return formatDay(ms) === day ? ms : undefined;
}

/** `YYYY-MM-DD` of the UTC day containing `ms`. */
export function formatDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

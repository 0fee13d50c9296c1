import { GamepipeError } from '../core/errors.js';
import { addDays } from '../layout/render.js';
import { checkVarValue } from '../layout/vars.js';

/** Calendar dates as `YYYY-MM-DD` strings (UTC days, like the silver partitions `ds=`). */

export function isDate(value: string): boolean {
  return checkVarValue('date', value);
}

/** The date, or a GamepipeError naming the option and what was expected. */
export function checkDate(value: string, option: string): string {
  if (!isDate(value)) {
    throw new GamepipeError(`${option}: ${JSON.stringify(value)} is not a date`, { expected: 'a calendar date YYYY-MM-DD, e.g. 2024-05-01' });
  }
  return value;
}

/** Every date from `from` to `to`, both included. */
export function datesBetween(from: string, to: string): string[] {
  if (from > to) throw new GamepipeError(`from ${from} is after to ${to}`, { expected: 'from ≤ to' });
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

export { addDays };

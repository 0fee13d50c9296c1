import fs from 'node:fs';
import path from 'node:path';
import type { PgAdapter } from '../connections/adapter.js';
import { GamepipeError } from '../core/errors.js';
import { DAY_MS, isDate } from '../core/dates.js';

/**
 * Exchange rates for revenue in USD, the same ones the daily pipeline uses (docs/metrics.md):
 * `reference/currency_rates.csv` (currency, usd_per_unit, valid_from), published by the job
 * `currency_rates` as WAREHOUSE.currency_rates. A purchase on day D converts at the rate of its
 * currency with the latest valid_from on or before D; a currency without a rate counts as a
 * purchase but adds no revenue. So the minutes of a closed day add up to what the batch tables
 * say. Rates are strings (exact decimals): the arithmetic happens in PostgreSQL numerics.
 */

/** The rates gamepipe ships, next to the package's code. */
export const BUNDLED_RATES_CSV = path.resolve(import.meta.dirname, '../../reference/currency_rates.csv');

export interface RateRow {
  currency: string;
  /** Decimal text, e.g. `0.0000393`. */
  usdPerUnit: string;
  /** `YYYY-MM-DD` */
  validFrom: string;
}

const DECIMAL = /^\d+(\.\d+)?$/;

export class CurrencyRates {
  private readonly byCurrency = new Map<string, Array<{ fromDay: number; rate: string }>>();

  constructor(
    rows: readonly RateRow[],
    /** Where they came from (a table or a file), for messages. */
    readonly source: string,
  ) {
    for (const r of rows) {
      const list = this.byCurrency.get(r.currency.toUpperCase()) ?? [];
      list.push({ fromDay: Math.floor(Date.parse(`${r.validFrom}T00:00:00Z`) / DAY_MS), rate: r.usdPerUnit });
      this.byCurrency.set(r.currency.toUpperCase(), list);
    }
    for (const list of this.byCurrency.values()) list.sort((a, b) => b.fromDay - a.fromDay);
  }

  get size(): number {
    return this.byCurrency.size;
  }

  /** USD per unit of `currency` on the UTC day of `eventTs`, or null when there is none. */
  rateFor(currency: string, eventTs: number): string | null {
    const list = this.byCurrency.get(currency.toUpperCase());
    if (!list) return null;
    const day = Math.floor(eventTs / DAY_MS);
    return list.find((r) => r.fromDay <= day)?.rate ?? null;
  }

  /** `currency,usd_per_unit,valid_from` with a header line. */
  static fromCsv(file: string): CurrencyRates {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new GamepipeError(`cannot read the currency rates: ${(err as Error).message}`, { file, expected: 'a CSV file currency,usd_per_unit,valid_from' });
    }
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    const header = lines.shift()?.split(',').map((h) => h.trim().toLowerCase());
    const col = (name: string) => header?.indexOf(name) ?? -1;
    const [ci, ri, vi] = [col('currency'), col('usd_per_unit'), col('valid_from')];
    if (ci < 0 || ri < 0 || vi < 0) {
      throw new GamepipeError('currency rates: the header must name currency, usd_per_unit and valid_from', { file });
    }
    const rows = lines.map((line, i) => {
      const f = line.split(',').map((s) => s.trim());
      const row = { currency: f[ci] ?? '', usdPerUnit: f[ri] ?? '', validFrom: f[vi] ?? '' };
      if (!/^[A-Za-z]{3}$/.test(row.currency) || !DECIMAL.test(row.usdPerUnit) || !isDate(row.validFrom)) {
        throw new GamepipeError(`currency rates line ${i + 2}: ${JSON.stringify(line)}`, { file, expected: 'ISO currency, a positive decimal, YYYY-MM-DD' });
      }
      return row;
    });
    return new CurrencyRates(rows, file);
  }

  /**
   * The rates the daily pipeline would use: WAREHOUSE.currency_rates when it has been published,
   * else `file` (default: reference/currency_rates.csv in the working directory, else the
   * bundled one).
   */
  static async load(db: PgAdapter, file?: string): Promise<CurrencyRates> {
    if (file) return CurrencyRates.fromCsv(file);
    const rows = await db.withSession(async (s) => {
      const exists = (await s.query<{ ok: boolean }>(`SELECT to_regclass('currency_rates') IS NOT NULL AS ok`)).rows[0]?.ok;
      if (!exists) return [];
      return (
        await s.query<{ currency: string; rate: string; valid_from: string }>(
          `SELECT upper(currency) AS currency, usd_per_unit::text AS rate, to_char(valid_from, 'YYYY-MM-DD') AS valid_from FROM currency_rates`,
        )
      ).rows;
    });
    if (rows.length) {
      return new CurrencyRates(
        rows.map((r) => ({ currency: r.currency, usdPerUnit: r.rate, validFrom: r.valid_from })),
        `${db.connectionName}.currency_rates`,
      );
    }
    const local = path.resolve('reference', 'currency_rates.csv');
    return CurrencyRates.fromCsv(fs.existsSync(local) ? local : BUNDLED_RATES_CSV);
  }
}

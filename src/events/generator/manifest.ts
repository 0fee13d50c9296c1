import { EVENT_NAMES, type CurrencyCode } from '../catalog.js';
import { DEFECT, DEFECT_KINDS, DEFECT_NAMES, type DefectKind } from './dirty.js';
import type { NormalizedOptions } from './options.js';
import type { BotCluster, Profile } from './population.js';
import { userIdFor } from './ids.js';
import { DAY_MS, formatDay } from '../../core/dates.js';

/**
 * Ground truth of a generated data set, collected while generating (a few counters per day,
 * never per event) and written as `manifest.json` next to the files: what is in each file,
 * each injected defect counted by kind, and the behaviour facts KPIs can be checked against.
 */

export type DefectCounts = Record<DefectKind, number>;

export interface DayTruth {
  /** Accounts with at least one session that day (timestamp day, before defects). */
  activeUsers: number;
  /** register events (accounts created that day). */
  installs: number;
  /** Events generated with a timestamp on that day, before defect injection (no duplicate copies). */
  generatedEvents: number;
  purchases: number;
  /** Accounts whose first purchase was that day. */
  newPayingUsers: number;
  /** Sum of purchase amounts per currency (before defects), rounded to cents. */
  revenue: Record<string, number>;
}

export interface DayReport {
  day: string;
  /** File name under `out/` (set by the writer). */
  file: string;
  /** Lines (NDJSON) or rows (Parquet) in the file. */
  lines: number;
  /** Lines without a defect. */
  clean: number;
  defects: DefectCounts;
  /** missing_field by field name. */
  missingFields: Record<string, number>;
  /** missing_property by property name. */
  missingProperties: Record<string, number>;
  /** Events generated but not written (Parquet omits malformed_json events). */
  omitted: number;
  truth: DayTruth;
}

export interface GenerationSummary {
  options: NormalizedOptions;
  period: { start: string; endExclusive: string; futureAfter: string };
  days: DayReport[];
  eventsByName: Record<string, number>;
  population: {
    accounts: number;
    games: number;
    /** Non-bot accounts flagged as payers (they may or may not have bought yet). */
    payerAccounts: number;
    whales: number;
    /** Accounts with at least one purchase (bots included). */
    payingUsers: number;
    botFarmers: {
      accounts: number;
      clusters: Array<{ ip: string; gameId: string; country: string; paying: boolean; userIds: string[] }>;
      /** Every farm account's userId (union of the clusters). */
      userIds: string[];
      /** The shared login IPs, one per cluster. */
      ips: string[];
    };
  };
}

export interface Manifest {
  generator: 'gamepipe-events';
  manifestVersion: 1;
  format: 'ndjson' | 'parquet';
  options: NormalizedOptions;
  period: GenerationSummary['period'];
  /** The days' counters summed, plus the lines with a defect and all events generated. */
  totals: Pick<DayReport, 'lines' | 'clean' | 'defects' | 'missingFields' | 'missingProperties' | 'omitted'> & {
    defectLines: number;
    generatedEvents: number;
  };
  defectRules: Record<DefectKind, { category: string; rule: string }>;
  notes: string[];
  population: GenerationSummary['population'];
  eventsByName: Record<string, number>;
  files: DayReport[];
}

function zeroDefects(): DefectCounts {
  return Object.fromEntries(DEFECT_NAMES.map((k) => [k, 0])) as DefectCounts;
}

/** Per-day counters filled by the generator. */
export class ManifestCollector {
  readonly clean: Float64Array;
  /** defectRows[day * kinds + (code - 1)] */
  private readonly defectRows: Float64Array;
  private readonly missingFields: Array<Record<string, number>>;
  private readonly missingProperties: Array<Record<string, number>>;
  readonly generated: Float64Array;
  readonly byName = new Float64Array(EVENT_NAMES.length + 1);
  private readonly dau: Float64Array;
  private readonly installs: Float64Array;
  private readonly purchases: Float64Array;
  private readonly newPaying: Float64Array;
  private readonly revenue: Array<Map<string, number>>;
  private payerAccounts = 0;
  private whales = 0;
  private payingUsers = 0;

  constructor(private readonly options: NormalizedOptions) {
    const days = options.days;
    this.clean = new Float64Array(days);
    this.defectRows = new Float64Array(days * DEFECT_KINDS.length);
    this.missingFields = Array.from({ length: days }, () => ({}));
    this.missingProperties = Array.from({ length: days }, () => ({}));
    this.generated = new Float64Array(days);
    this.dau = new Float64Array(days);
    this.installs = new Float64Array(days);
    this.purchases = new Float64Array(days);
    this.newPaying = new Float64Array(days);
    this.revenue = Array.from({ length: days }, () => new Map());
  }

  /** A row with a defect was written to day `day`'s file. */
  defectRow(day: number, code: number): void {
    this.defectRows[day * DEFECT_KINDS.length + code - 1]! += 1;
  }

  removed(day: number, code: number, what: string): void {
    const table = code === DEFECT.missing_field ? this.missingFields[day]! : this.missingProperties[day]!;
    table[what] = (table[what] ?? 0) + 1;
  }

  // TruthRecorder
  active(day: number): void {
    this.dau[day]! += 1;
  }

  install(day: number, p: Profile): void {
    this.installs[day]! += 1;
    if (p.cluster < 0 && p.payer) this.payerAccounts++;
    if (p.cluster < 0 && p.whale) this.whales++;
  }

  purchase(day: number, currency: CurrencyCode, amount: number, firstForUser: boolean): void {
    this.purchases[day]! += 1;
    const m = this.revenue[day]!;
    m.set(currency, (m.get(currency) ?? 0) + amount);
    if (firstForUser) {
      this.newPaying[day]! += 1;
      this.payingUsers++;
    }
  }

  summary(clusters: readonly BotCluster[]): GenerationSummary {
    const o = this.options;
    const days: DayReport[] = [];
    for (let d = 0; d < o.days; d++) {
      const defects = zeroDefects();
      let defectLines = 0;
      DEFECT_NAMES.forEach((k, i) => {
        defects[k] = this.defectRows[d * DEFECT_KINDS.length + i]!;
        defectLines += defects[k];
      });
      const revenue: Record<string, number> = {};
      for (const [c, v] of [...this.revenue[d]!.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        revenue[c] = Math.round(v * 100) / 100;
      }
      days.push({
        day: formatDay(o.startMs + d * DAY_MS),
        file: '',
        lines: this.clean[d]! + defectLines,
        clean: this.clean[d]!,
        defects,
        missingFields: sortKeys(this.missingFields[d]!),
        missingProperties: sortKeys(this.missingProperties[d]!),
        omitted: 0,
        truth: {
          activeUsers: this.dau[d]!,
          installs: this.installs[d]!,
          generatedEvents: this.generated[d]!,
          purchases: this.purchases[d]!,
          newPayingUsers: this.newPaying[d]!,
          revenue,
        },
      });
    }
    const farms = clusters.map((c) => ({
      ip: c.ip,
      gameId: `game_${c.game}`,
      country: c.country as string,
      paying: c.paying,
      userIds: Array.from({ length: c.size }, (_, k) => userIdFor(c.first + k)),
    }));
    const endMs = o.startMs + o.days * DAY_MS;
    return {
      options: o,
      period: {
        start: o.start,
        endExclusive: formatDay(endMs),
        futureAfter: new Date(endMs + DAY_MS).toISOString(),
      },
      days,
      eventsByName: Object.fromEntries(EVENT_NAMES.map((n, i) => [n, this.byName[i + 1]!])),
      population: {
        accounts: o.users,
        games: o.games,
        payerAccounts: this.payerAccounts,
        whales: this.whales,
        payingUsers: this.payingUsers,
        botFarmers: {
          accounts: farms.reduce((n, f) => n + f.userIds.length, 0),
          clusters: farms,
          userIds: farms.flatMap((f) => f.userIds),
          ips: farms.map((f) => f.ip),
        },
      },
    };
  }
}

function sortKeys(table: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(table).sort(([a], [b]) => a.localeCompare(b)));
}

function addInto(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/**
 * The manifest of a written data set. `days` must already say, per file, what was written
 * (the Parquet writer moves malformed_json events to `omitted`).
 */
export function buildManifest(summary: GenerationSummary, format: 'ndjson' | 'parquet', days: DayReport[]): Manifest {
  const defects = zeroDefects();
  const missingFields: Record<string, number> = {};
  const missingProperties: Record<string, number> = {};
  let lines = 0;
  let clean = 0;
  let omitted = 0;
  let generatedEvents = 0;
  for (const day of days) {
    lines += day.lines;
    clean += day.clean;
    omitted += day.omitted;
    generatedEvents += day.truth.generatedEvents;
    for (const k of DEFECT_NAMES) defects[k] += day.defects[k];
    addInto(missingFields, day.missingFields);
    addInto(missingProperties, day.missingProperties);
  }
  const notes = [
    'Each defective line has exactly one defect; counts are per file (a late arrival counts in the file it is in).',
    'truth.* figures describe behaviour as generated, before defect injection; late arrivals count on their timestamp day.',
    'Within a file, events are grouped by user (not sorted by time); late arrivals come first in their file.',
  ];
  if (format === 'parquet') {
    notes.push('Parquet cannot hold a truncated JSON line: malformed_json events are omitted (see omitted), never written.');
  }
  return {
    generator: 'gamepipe-events',
    manifestVersion: 1,
    format,
    options: summary.options,
    period: summary.period,
    totals: {
      lines,
      clean,
      defectLines: lines - clean,
      defects,
      missingFields: sortKeys(missingFields),
      missingProperties: sortKeys(missingProperties),
      omitted,
      generatedEvents,
    },
    defectRules: Object.fromEntries(DEFECT_KINDS.map((d) => [d.kind, { category: d.category, rule: d.rule }])) as Manifest['defectRules'],
    notes,
    population: summary.population,
    eventsByName: summary.eventsByName,
    files: days,
  };
}

import { isGameId } from './paths.js';
import { dayCount, isDate } from '../core/dates.js';

/**
 * A level-funnel question, as the CLI and the HTTP API take it: a game, a date range (UTC days,
 * both included) and filters on five dimensions. Each filter holds one or more values (a comma
 * list, or a repeated query parameter) and matches case-insensitively (folded by caseFold.ts, the
 * same function for the fast and raw paths); a NULL dimension value
 * matches no filter. Parsing never throws: it returns every problem, each naming the parameter
 * (the API answers 400 with them, the CLI prints them).
 */

/** Filter name (API query parameter, camelCase) → silver column and index bit. */
export const DIMENSIONS = {
  platform: { column: 'platform', bit: 16, integer: false },
  country: { column: 'country_code', bit: 8, integer: false },
  appVersion: { column: 'app_version', bit: 4, integer: false },
  levelFunnel: { column: 'level_funnel', bit: 2, integer: false },
  levelFunnelVersion: { column: 'level_funnel_version', bit: 1, integer: true },
} as const;

export type FilterName = keyof typeof DIMENSIONS;
export const FILTER_NAMES = Object.keys(DIMENSIONS) as FilterName[];

/** Values per filter: strings as given (caseFold.ts folds them for matching); versions as integers. */
export type FunnelFilters = Partial<Record<FilterName, string[]>>;

export const METHODS = ['fast', 'raw'] as const;
export type FunnelMethod = (typeof METHODS)[number];

/** One exact (levelFunnel, levelFunnelVersion) pair of a `funnel=live_v1:15,live_v2:16` filter. */
export interface FunnelPair {
  levelFunnel: string;
  levelFunnelVersion: number;
}

/** Install-date cohort: players whose install day (earliest `register`) is in [from, to]; either end may be open. */
export interface InstallRange {
  from?: string;
  to?: string;
}

export interface FunnelQuery {
  gameId: string;
  from: string;
  to: string;
  filters: FunnelFilters;
  /** Exact (levelFunnel, levelFunnelVersion) pairs, any of which matches (besides the independent filters). */
  funnelPairs?: FunnelPair[];
  /** Only players who installed in this range (players without a `register` never match). */
  install?: InstallRange;
  /** At most this many levels are listed, the lowest first (default DEFAULT_LEVEL_LIMIT). */
  levelLimit?: number;
}

export const DEFAULT_LEVEL_LIMIT = 100;
export const MAX_LEVEL_LIMIT = 10_000;

/** Parameters of a question besides the five dimension filters. */
export const QUERY_PARAMS = ['from', 'to', 'installFrom', 'installTo', 'funnel', 'levelLimit'] as const;

export const MAX_RANGE_DAYS = 3660;
const MAX_VALUES = 100;
const MAX_VALUE_LENGTH = 200;
const INT32 = /^-?\d{1,10}$/;

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** `a,b` or ['a', 'b,c'] → trimmed non-empty values. */
function splitValues(raw: unknown): string[] | undefined {
  const parts = Array.isArray(raw) ? raw : [raw];
  if (!parts.every((p) => typeof p === 'string')) return undefined;
  return (parts as string[]).flatMap((p) => p.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** Checks one filter's values; returns them without duplicates (integers canonical). */
export function parseFilterValues(name: FilterName, raw: unknown, errors: string[]): string[] | undefined {
  const values = splitValues(raw);
  if (values === undefined) {
    errors.push(`${name}: expected text (one or more comma-separated values)`);
    return undefined;
  }
  if (values.length === 0) {
    errors.push(`${name}: empty; expected one or more comma-separated values, e.g. ${name}=${example(name)}`);
    return undefined;
  }
  if (values.length > MAX_VALUES) {
    errors.push(`${name}: ${values.length} values; at most ${MAX_VALUES}`);
    return undefined;
  }
  const long = values.find((v) => v.length > MAX_VALUE_LENGTH);
  if (long !== undefined) {
    errors.push(`${name}: a value is ${long.length} characters long; at most ${MAX_VALUE_LENGTH}`);
    return undefined;
  }
  if (DIMENSIONS[name].integer) {
    const bad = values.find((v) => !INT32.test(v) || Math.abs(Number(v)) > 2147483647);
    if (bad !== undefined) {
      errors.push(`${name}: ${JSON.stringify(bad)} is not an integer (funnel versions are whole numbers, e.g. ${name}=1,2)`);
      return undefined;
    }
    return [...new Set(values.map((v) => String(Number(v))))];
  }
  return [...new Set(values)];
}

function example(name: FilterName): string {
  return { platform: 'ios,android', country: 'US,TR', appVersion: '1.2.0', levelFunnel: 'live_v1', levelFunnelVersion: '1,2' }[name];
}

export interface RawFunnelParams {
  gameId: unknown;
  /** Every other parameter as given: from, to, method and filters; anything else is unknown. */
  params: Record<string, unknown>;
  /** Parameters allowed besides from/to/filters (e.g. `method`), checked by the caller. */
  extra?: readonly string[];
}

/** Parses and checks a question; unknown parameter names and malformed dates are errors. */
export function parseFunnelQuery(input: RawFunnelParams): Parsed<FunnelQuery> {
  const errors: string[] = [];
  const { params } = input;
  const known = [...QUERY_PARAMS, ...FILTER_NAMES, ...(input.extra ?? [])];
  const allowed = new Set<string>(known);
  for (const key of Object.keys(params)) {
    if (!allowed.has(key)) errors.push(`unknown parameter "${key}"; expected ${known.join(', ')}`);
  }
  const gameId = typeof input.gameId === 'string' ? input.gameId : '';
  if (!isGameId(gameId)) errors.push(`gameId: ${JSON.stringify(input.gameId)} is not a game id (letters, digits and _ . : @ + -)`);
  const date = (name: 'from' | 'to' | 'installFrom' | 'installTo', required = true): string | undefined => {
    const v = params[name];
    if (v === undefined || v === '') {
      if (required) errors.push(`${name}: required, a date YYYY-MM-DD`);
      return undefined;
    }
    if (typeof v !== 'string' || !isDate(v)) {
      errors.push(`${name}: ${JSON.stringify(v)} is not a calendar date YYYY-MM-DD`);
      return undefined;
    }
    return v;
  };
  const from = date('from');
  const to = date('to');
  if (from && to) {
    if (from > to) errors.push(`from ${from} is after to ${to}`);
    else if (dayCount(from, to) > MAX_RANGE_DAYS) errors.push(`the range ${from}..${to} spans more than ${MAX_RANGE_DAYS} days`);
  }
  const installFrom = date('installFrom', false);
  const installTo = date('installTo', false);
  if (installFrom && installTo && installFrom > installTo) errors.push(`installFrom ${installFrom} is after installTo ${installTo}`);
  const filters: FunnelFilters = {};
  for (const name of FILTER_NAMES) {
    if (params[name] === undefined) continue;
    const values = parseFilterValues(name, params[name], errors);
    if (values) filters[name] = values;
  }
  const funnelPairs = params.funnel === undefined ? undefined : parseFunnelPairs(params.funnel, errors);
  let levelLimit: number | undefined;
  if (params.levelLimit !== undefined) {
    const v = params.levelLimit;
    if (typeof v !== 'string' || !/^\d{1,6}$/.test(v) || Number(v) < 1 || Number(v) > MAX_LEVEL_LIMIT) {
      errors.push(`levelLimit: ${JSON.stringify(v)} is not a whole number from 1 to ${MAX_LEVEL_LIMIT}`);
    } else levelLimit = Number(v);
  }
  if (errors.length) return { ok: false, errors };
  const value: FunnelQuery = { gameId, from: from!, to: to!, filters };
  if (funnelPairs) value.funnelPairs = funnelPairs;
  if (levelLimit !== undefined) value.levelLimit = levelLimit;
  if (installFrom || installTo) value.install = { ...(installFrom ? { from: installFrom } : {}), ...(installTo ? { to: installTo } : {}) };
  return { ok: true, value };
}

/** `live_v1:15,live_v2:16` → exact pairs (the name as given, folded later; the version an integer). */
export function parseFunnelPairs(raw: unknown, errors: string[]): FunnelPair[] | undefined {
  const values = splitValues(raw);
  const expected = 'levelFunnel:version pairs, e.g. funnel=live_v1:15,live_v2:16';
  if (values === undefined || values.length === 0) {
    errors.push(`funnel: ${values === undefined ? 'expected text' : 'empty'}; expected ${expected}`);
    return undefined;
  }
  if (values.length > MAX_VALUES) {
    errors.push(`funnel: ${values.length} pairs; at most ${MAX_VALUES}`);
    return undefined;
  }
  const pairs: FunnelPair[] = [];
  const seen = new Set<string>();
  for (const v of values) {
    const colon = v.lastIndexOf(':');
    const name = colon > 0 ? v.slice(0, colon).trim() : '';
    const version = colon > 0 ? v.slice(colon + 1).trim() : '';
    if (name === '' || !INT32.test(version) || Math.abs(Number(version)) > 2147483647 || name.length > MAX_VALUE_LENGTH) {
      errors.push(`funnel: ${JSON.stringify(v)} is not a levelFunnel:version pair; expected ${expected}`);
      return undefined;
    }
    const key = `${name}\0${Number(version)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push({ levelFunnel: name, levelFunnelVersion: Number(version) });
  }
  return pairs;
}

export function parseMethod(raw: unknown, errors: string[]): FunnelMethod {
  if (raw === undefined || raw === '') return 'fast';
  if (typeof raw === 'string' && (METHODS as readonly string[]).includes(raw)) return raw as FunnelMethod;
  errors.push(`method: ${JSON.stringify(raw)} is not one of ${METHODS.join(', ')}`);
  return 'fast';
}

/** Filters without duplicates, integers canonical, whoever built them (caseFold.ts folds the text ones). */
export function normalizeFilters(filters: FunnelFilters): FunnelFilters {
  const out: FunnelFilters = {};
  for (const name of FILTER_NAMES) {
    const values = filters[name];
    if (!values) continue;
    out[name] = [...new Set(values.map((v) => (DIMENSIONS[name].integer ? String(Number(v)) : String(v))))];
  }
  return out;
}

/** The index bit of the install day (a player attribute, constant within a player's entries). */
export const INSTALL_BIT = 32;

/** The bits of the filtered dimensions (see DIMENSIONS; a funnel pair filters levelFunnel and its version; install INSTALL_BIT). */
export function filteredBits(filters: FunnelFilters, q?: Pick<FunnelQuery, 'funnelPairs' | 'install'>): number {
  let bits = FILTER_NAMES.reduce((b, name) => (filters[name] ? b | DIMENSIONS[name].bit : b), 0);
  if (q?.funnelPairs?.length) bits |= DIMENSIONS.levelFunnel.bit | DIMENSIONS.levelFunnelVersion.bit;
  if (q?.install) bits |= INSTALL_BIT;
  return bits;
}

import { GamepipeError } from '../core/errors.js';
import { isDate } from '../core/dates.js';

/**
 * Vars reach SQL text and file paths, so each value is typed and checked before any
 * substitution: a date must be a real calendar date, a string may hold only characters
 * that cannot end a literal, start a comment or climb out of a directory.
 */
export const VAR_TYPES = ['date', 'timestamp', 'integer', 'number', 'identifier', 'string'] as const;
export type VarType = (typeof VAR_TYPES)[number];

export interface VarSpec {
  type: VarType;
  default?: string | undefined;
  required?: boolean | undefined;
  /** Accepted values, when the var is an enumeration. */
  values?: string[] | undefined;
  description?: string | undefined;
}

export type Vars = Record<string, string>;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/;
const INTEGER = /^-?\d{1,18}$/;
const NUMBER = /^-?\d{1,18}(\.\d{1,18})?$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** No quotes, backslashes, semicolons, comment starters or `..`: nothing that escapes a literal or a folder. */
const SAFE_STRING = /^[A-Za-z0-9_.:@+ /-]{0,200}$/;

const EXPECTED: Record<VarType, string> = {
  date: 'a calendar date YYYY-MM-DD',
  timestamp: 'an ISO-8601 timestamp like 2024-12-29T10:00:00Z',
  integer: 'an integer',
  number: 'a decimal number',
  identifier: 'an identifier (letters, digits, _; not starting with a digit)',
  string: 'text of letters, digits and _ . : @ + / - or space (no quotes, semicolons, backslashes or "..")',
};

export function checkVarValue(type: VarType, value: string): boolean {
  switch (type) {
    case 'date':
      return isDate(value);
    case 'timestamp':
      return TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
    case 'integer':
      return INTEGER.test(value);
    case 'number':
      return NUMBER.test(value);
    case 'identifier':
      return IDENTIFIER.test(value);
    case 'string':
      return SAFE_STRING.test(value) && !value.includes('..') && !value.includes('--');
  }
}

/** The type of a var the layout does not declare: dates by name, otherwise safe text. */
export function inferVarType(name: string): VarType {
  return /(^ds$|date$|Date$|_date$)/.test(name) ? 'date' : 'string';
}

/** Parses `k=v[,k=v…]` (repeatable on the command line). */
export function parseVarsArg(args: string | string[] | undefined): Vars {
  const vars: Vars = {};
  const list = args === undefined ? [] : Array.isArray(args) ? args : [args];
  for (const arg of list) {
    for (const pair of arg.split(',')) {
      if (pair.trim() === '') continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new GamepipeError(`--vars: "${pair}" is not a k=v pair`, { expected: 'k=v[,k=v…], e.g. logDate=2024-12-29' });
      }
      const name = pair.slice(0, eq).trim();
      if (!IDENTIFIER.test(name)) {
        throw new GamepipeError(`--vars: "${name}" is not a valid var name`, { expected: EXPECTED.identifier });
      }
      vars[name] = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    }
  }
  return vars;
}

/**
 * Applies defaults and checks every value against its declared (or inferred) type.
 * Built-in vars (lake, home) come from the environment and are trusted paths.
 */
export function resolveVars(
  given: Vars,
  specs: Record<string, VarSpec>,
  builtins: Vars,
  context: { file?: string; job?: string } = {},
): Vars {
  const resolved: Vars = { ...builtins };
  for (const [name, spec] of Object.entries(specs)) {
    if (given[name] === undefined && spec.default === undefined && spec.required !== false) {
      throw new GamepipeError(`var "${name}" is required`, {
        ...context,
        jsonPath: `$.vars.${name}`,
        expected: `--vars ${name}=<${EXPECTED[spec.type]}>`,
      });
    }
  }
  const names = new Set([...Object.keys(given), ...Object.keys(specs)]);
  for (const name of names) {
    if (name in builtins && !(name in specs)) {
      throw new GamepipeError(`var "${name}" is built in and cannot be set`, { ...context });
    }
    const spec = specs[name];
    const value = given[name] ?? spec?.default;
    if (value === undefined) continue;
    const type = spec?.type ?? inferVarType(name);
    if (!checkVarValue(type, value)) {
      throw new GamepipeError(`var "${name}" has an invalid value ${JSON.stringify(value)}`, {
        ...context,
        expected: EXPECTED[type],
      });
    }
    if (spec?.values && !spec.values.includes(value)) {
      throw new GamepipeError(`var "${name}" has value ${JSON.stringify(value)}`, {
        ...context,
        expected: `one of ${spec.values.join(', ')}`,
      });
    }
    resolved[name] = value;
  }
  return resolved;
}

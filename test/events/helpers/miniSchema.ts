import fs from 'node:fs';
import path from 'node:path';

/**
 * A deliberately small JSON Schema (2020-12) validator for the keywords our contract schemas
 * use. An unsupported keyword is an error, so the test notices when a schema outgrows it (then
 * switch to a real validator such as ajv).
 */

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'examples', 'format', 'default']);
const SUPPORTED = new Set([
  ...ANNOTATIONS,
  '$ref',
  'allOf',
  'type',
  'required',
  'properties',
  'additionalProperties',
  'const',
  'enum',
  'pattern',
  'minimum',
  'exclusiveMinimum',
  'minLength',
]);

function typeOk(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      throw new Error(`unsupported type ${type}`);
  }
}

export function validate(schema: Schema, value: unknown, schemaFile: string, at = '$'): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!SUPPORTED.has(key)) throw new Error(`${schemaFile}: keyword ${key} not supported by the test validator`);
  }
  if (typeof schema.$ref === 'string') {
    const target = path.resolve(path.dirname(schemaFile), schema.$ref);
    const referenced = JSON.parse(fs.readFileSync(target, 'utf8')) as Schema;
    errors.push(...validate(referenced, value, target, at));
  }
  for (const sub of (schema.allOf as Schema[] | undefined) ?? []) errors.push(...validate(sub, value, schemaFile, at));
  // `type` is one name or a list of names (e.g. ['integer', 'null'] for an optional property)
  const types = typeof schema.type === 'string' ? [schema.type] : Array.isArray(schema.type) ? (schema.type as string[]) : null;
  if (types && !types.some((t) => typeOk(value, t))) {
    errors.push(`${at}: expected ${types.join(' or ')}`);
    return errors;
  }
  if ('const' in schema && value !== schema.const) errors.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${at}: not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
      errors.push(`${at}: does not match ${schema.pattern}`);
    }
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) errors.push(`${at}: too short`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${at}: below ${schema.minimum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) {
      errors.push(`${at}: not above ${schema.exclusiveMinimum}`);
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) {
      if (!(key in obj)) errors.push(`${at}: missing required ${key}`);
    }
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [key, v] of Object.entries(obj)) {
      if (key in props) errors.push(...validate(props[key]!, v, schemaFile, `${at}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected ${key}`);
      else if (typeof schema.additionalProperties === 'object' && schema.additionalProperties !== null) {
        errors.push(...validate(schema.additionalProperties as Schema, v, schemaFile, `${at}.${key}`));
      }
    }
  }
  return errors;
}

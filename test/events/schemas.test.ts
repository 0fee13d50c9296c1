import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  COUNTRIES,
  COUNTRY_CODES,
  COUNTRY_CURRENCY,
  CURRENCIES,
  ENVELOPE_FIELD_NAMES,
  EVENT_CATALOG,
  EVENT_NAMES,
  PLATFORMS,
  PLATFORM_PATTERN,
  REQUIRED_ENVELOPE_FIELDS,
  REQUIRED_PROPERTIES,
  TIMESTAMP_PATTERN,
  amountInUsd,
  hasJsonType,
  normalizePlatform,
} from '../../src/events/catalog.js';
import { renderSchemaFile } from '../../src/events/contractFiles.js';
import { DEFECT_NAMES } from '../../src/events/generator/index.js';
import { schemaFiles } from '../../src/events/schemas.js';
import { validate } from './helpers/miniSchema.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REGENERATE = `npx tsx -e "import('./src/events/contractFiles.ts').then((m) => m.writeContractFiles('.'))"`;

type Schema = Record<string, unknown>;

function readJson(relative: string): Schema {
  return JSON.parse(fs.readFileSync(path.join(ROOT, relative), 'utf8')) as Schema;
}

describe('schemas/ and the catalog', () => {
  it('has exactly one schema file per catalog event, plus the envelope', () => {
    const files = fs.readdirSync(path.join(ROOT, 'schemas/events')).sort();
    expect(files).toEqual(EVENT_NAMES.map((n) => `${n}.schema.json`).sort());
    expect(fs.existsSync(path.join(ROOT, 'schemas/envelope.schema.json'))).toBe(true);
  });

  it('schema files are exactly what the catalog renders (regenerate them if this fails)', () => {
    for (const [relative, schema] of schemaFiles()) {
      const onDisk = fs.readFileSync(path.join(ROOT, relative), 'utf8');
      expect(onDisk, `${relative} differs from the catalog; run ${REGENERATE}`).toBe(renderSchemaFile(schema));
    }
  });

  it('the envelope schema requires the contract fields and lists every envelope field', () => {
    const envelope = readJson('schemas/envelope.schema.json');
    expect(envelope.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(envelope.required).toEqual([...REQUIRED_ENVELOPE_FIELDS]);
    expect(Object.keys(envelope.properties as Schema)).toEqual([...ENVELOPE_FIELD_NAMES]);
    expect(envelope.additionalProperties).toBe(true);
    const props = envelope.properties as Record<string, Schema>;
    expect(props.levelFunnelVersion!.type).toBe('integer');
    expect(props.properties!.type).toBe('object');
  });

  it('each event schema requires the catalog properties with the catalog JSON types, and lets extras through', () => {
    for (const name of EVENT_NAMES) {
      const schema = readJson(`schemas/events/${name}.schema.json`);
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.allOf).toEqual([{ $ref: '../envelope.schema.json' }]);
      const props = (schema.properties as Record<string, Schema>).properties!;
      expect((schema.properties as Record<string, Schema>).eventName).toEqual({ const: name });
      expect(props.additionalProperties).toBe(true);
      const required = REQUIRED_PROPERTIES[name];
      expect((props.required as string[] | undefined) ?? []).toEqual(required.map((p) => p.name));
      for (const p of required) {
        expect((props.properties as Record<string, Schema>)[p.name]!.type, `${name}.${p.name}`).toBe(p.type);
      }
    }
  });

  it('every schema example validates against its schema (and the envelope)', () => {
    const files = ['schemas/envelope.schema.json', ...EVENT_NAMES.map((n) => `schemas/events/${n}.schema.json`)];
    for (const relative of files) {
      const schema = readJson(relative);
      const examples = schema.examples as unknown[];
      expect(examples.length, relative).toBeGreaterThan(0);
      for (const example of examples) {
        expect(validate(schema, example, path.join(ROOT, relative)), relative).toEqual([]);
      }
    }
  });

  it('rejects what the contract rejects', () => {
    const file = path.join(ROOT, 'schemas/events/purchase.schema.json');
    const schema = readJson('schemas/events/purchase.schema.json');
    const good = (schema.examples as Array<Record<string, unknown>>)[0]!;
    const without = (field: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== field));
    expect(validate(schema, without('userId'), file).join()).toMatch(/userId/);
    expect(validate(schema, { ...good, timestamp: '2024-05-01 13:45:00' }, file).join()).toMatch(/timestamp/);
    expect(validate(schema, { ...good, properties: { ...(good.properties as object), amount: -1 } }, file).join()).toMatch(/amount/);
    const noCurrency = Object.fromEntries(Object.entries(good.properties as object).filter(([k]) => k !== 'currency'));
    expect(validate(schema, { ...good, properties: noCurrency }, file).join()).toMatch(/currency/);
    // Extras pass through; platform letter case is accepted (normalised later).
    expect(validate(schema, { ...good, platform: 'ios', extra: 1, properties: { ...(good.properties as object), coupon: 'X' } }, file)).toEqual([]);
    expect(validate(schema, { ...good, platform: 'Switch' }, file).join()).toMatch(/platform/);
  });

  it('catalog examples have the catalog property types', () => {
    for (const name of EVENT_NAMES) {
      for (const p of REQUIRED_PROPERTIES[name]) {
        expect(hasJsonType(EVENT_CATALOG[name].example[p.name], p.type), `${name}.${p.name}`).toBe(true);
      }
    }
  });
});

describe('catalog reference lists', () => {
  it('covers the studios’ platforms, ~30 countries and their currencies', () => {
    expect(PLATFORMS).toEqual(['iOS', 'Android', 'WebGL']);
    for (const c of ['TH', 'VN', 'ID', 'PH', 'SG', 'MY', 'US', 'TR', 'MX', 'BR', 'JP', 'KR', 'DE', 'GB', 'FR', 'IN']) {
      expect(COUNTRY_CODES).toContain(c);
    }
    expect(COUNTRY_CODES.length).toBeGreaterThanOrEqual(28);
    for (const code of COUNTRY_CODES) {
      expect(code).toMatch(/^[A-Z]{2}$/);
      expect(COUNTRIES[code].length).toBeGreaterThan(2);
      expect(CURRENCIES[COUNTRY_CURRENCY[code]]).toBeDefined();
    }
    for (const c of ['USD', 'THB', 'VND', 'IDR', 'PHP', 'SGD', 'MYR']) expect(Object.keys(CURRENCIES)).toContain(c);
  });

  it('normalises platforms and converts amounts for the absurd-purchase rule', () => {
    expect(normalizePlatform('ios')).toBe('iOS');
    expect(normalizePlatform('ANDROID')).toBe('Android');
    expect(normalizePlatform('Switch')).toBeUndefined();
    expect(amountInUsd(119_000, 'VND')).toBeCloseTo(4.76, 2);
    expect(amountInUsd(1, 'XXX')).toBeUndefined();
    expect(new RegExp(PLATFORM_PATTERN).test('WebGL')).toBe(true);
    expect(new RegExp(TIMESTAMP_PATTERN).test('2024-05-01T13:45:12+07:00')).toBe(true);
    expect(new RegExp(TIMESTAMP_PATTERN).test('2024-05-01T13:45:12')).toBe(false);
  });
});

describe('docs/events.md', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/events.md'), 'utf8');

  it('documents every event with an example line and every property', () => {
    for (const name of EVENT_NAMES) {
      expect(doc, name).toContain(`### \`${name}\``);
      expect(doc, `example of ${name}`).toContain(`"eventName":"${name}"`);
      for (const prop of Object.keys({ ...EVENT_CATALOG[name].properties, ...EVENT_CATALOG[name].optionalProperties })) {
        expect(doc, `${name}.${prop}`).toContain(`\`${prop}\``);
      }
    }
    for (const field of ENVELOPE_FIELD_NAMES) expect(doc, field).toContain(`\`${field}\``);
  });

  it('says per event which properties are required and which optional, as the catalog does', () => {
    for (const name of EVENT_NAMES) {
      const section = doc.split(`### \`${name}\``)[1]!.split('\n### ')[0]!;
      for (const [prop, spec] of Object.entries(EVENT_CATALOG[name].properties)) {
        const row = section.split('\n').find((l) => l.startsWith(`| \`${prop}\` |`));
        const required = row?.split('|')[3]?.trim();
        expect(required, `${name}.${prop}`).toBe(spec.default === undefined ? 'yes' : spec.default === null ? 'no (unknown when absent)' : `no (default \`${JSON.stringify(spec.default)}\`)`);
      }
      expect(section, `${name}: why these are required`).toMatch(/\nRequired: /);
    }
  });

  it('documents every defect kind the generator injects', () => {
    for (const kind of DEFECT_NAMES) expect(doc, kind).toContain(`\`${kind}\``);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../src/core/paths.js';
import { validateLayoutFile } from '../../src/engine/validateLayout.js';
import { EVENT_CATALOG, EVENT_NAMES } from '../../src/events/catalog.js';
import { PROPERTY_COLUMNS } from '../../src/quality/columns.js';
import { GENERATED_TEMPLATE, renderGeneratedTemplate } from '../../src/quality/generatedSql.js';
import { QUALITY_RULES, ruleByName } from '../../src/quality/rules.js';

const ruleSeverity = (name: string) => ruleByName(name)!.severity;
import { QUALITY_DAILY_LAYOUT, SILVER_EVENTS_LAYOUT } from '../../src/quality/silver.js';

describe('silver layouts', () => {
  it('the generated rule SQL is up to date with rules.ts, columns.ts and the catalog', () => {
    // If this fails: npx tsx src/quality/generatedSql.ts --write
    expect(fs.readFileSync(GENERATED_TEMPLATE, 'utf8')).toBe(renderGeneratedTemplate());
  });

  it('both layouts validate (format, vars, template, SQL syntax)', async () => {
    const paths = resolvePaths({ GAMEPIPE_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-validate-')) });
    try {
      expect(await validateLayoutFile(SILVER_EVENTS_LAYOUT, {}, paths)).toBe('silver_events');
      expect(await validateLayoutFile(QUALITY_DAILY_LAYOUT, {}, paths)).toBe('quality_daily');
    } finally {
      fs.rmSync(paths.home, { recursive: true, force: true });
    }
  });

  it('every typed property column is a catalog property', () => {
    const known = new Set(EVENT_NAMES.flatMap((n) => [...Object.keys(EVENT_CATALOG[n].properties), ...Object.keys(EVENT_CATALOG[n].optionalProperties ?? {})]));
    expect(PROPERTY_COLUMNS.map((c) => c.property).filter((p) => !known.has(p))).toEqual([]);
  });

  it('docs/quality.md documents every rule', () => {
    const docs = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/quality.md'), 'utf8');
    expect(QUALITY_RULES.map((r) => r.name).filter((n) => !docs.includes(`| \`${n}\` | ${ruleSeverity(n)} |`))).toEqual([]);
  });

  it('rule names are unique snake_case and described', () => {
    const names = QUALITY_RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const r of QUALITY_RULES) {
      expect(r.name).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(r.description.length).toBeGreaterThan(10);
    }
  });
});

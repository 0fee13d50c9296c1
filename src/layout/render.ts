import fs from 'node:fs';
import path from 'node:path';
import nunjucks from 'nunjucks';
import { GamepipeError } from '../core/errors.js';
import type { Vars } from './vars.js';
import { sqlString } from '../sql/quote.js';
import { addDays } from '../core/dates.js';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `{name}` placeholders; an unknown name is an error naming where it appeared. */
export function renderPlaceholders(text: string, vars: Vars, where: { file?: string; jsonPath: string }): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      throw new GamepipeError(`unknown placeholder {${name}}`, {
        ...where,
        expected: `a var given with --vars ${name}=… or declared with a default (known: ${Object.keys(vars).sort().join(', ')})`,
      });
    }
    return value;
  });
}

/** Renders a `.sql.j2` template (nunjucks, Jinja syntax) with the vars as `{{ name }}`. */
export function renderTemplate(templatePath: string, layoutDir: string, vars: Vars, where: { file?: string }): string {
  const abs = path.resolve(layoutDir, templatePath);
  if (!fs.existsSync(abs)) {
    throw new GamepipeError(`template not found: ${abs}`, {
      ...where,
      jsonPath: '$.transformTemplate',
      expected: 'a .sql.j2 file, relative to the layout file',
    });
  }
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(path.dirname(abs)), {
    autoescape: false,
    throwOnUndefined: true,
  });
  env.addFilter('addDays', addDays);
  env.addFilter('sqlString', (v: unknown) => sqlString(String(v)));
  try {
    return env.render(path.basename(abs), { ...vars });
  } catch (err) {
    throw new GamepipeError(`template ${templatePath} failed to render: ${(err as Error).message}`, {
      ...where,
      jsonPath: '$.transformTemplate',
    });
  }
}

import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { GamepipeError } from '../core/errors.js';
import { layoutSchema, type Layout } from './schema.js';

export interface LoadedLayout {
  layout: Layout;
  /** The layout file as the user named it (errors show this). */
  file: string;
  /** Folder of the layout file: templates resolve against it. */
  dir: string;
}

/** `$.output.mode`, `$.inputSources[0].path` */
export function toJsonPath(segments: readonly PropertyKey[]): string {
  return (
    '$' +
    segments
      .map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`))
      .join('')
  );
}

/** A zod issue in words: where (JSON path), what is wrong, what was expected. */
export function describeIssue(
  issue: z.core.$ZodIssue,
  format = 'the layout format (see docs/layouts.md)',
): { jsonPath: string; message: string; expected: string } {
  const jsonPath = toJsonPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        jsonPath,
        message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
        expected: `only the keys of ${format}`,
      };
    case 'invalid_value':
      return { jsonPath, message: 'invalid value', expected: `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'invalid_union':
      return { jsonPath, message: 'invalid value', expected: issue.message };
    case 'invalid_type':
      return { jsonPath, message: issue.message.replace(/^Invalid input: /, ''), expected: issue.expected };
    default:
      return { jsonPath, message: 'invalid value', expected: issue.message };
  }
}

/**
 * Parses JSON text with a zod schema; every problem names the file and the JSON path
 * (`format` names the file format in the "expected" of unknown keys).
 */
export function parseJsonWith<S extends z.ZodType>(schema: S, text: string, file: string, format: string, what: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new GamepipeError(`not valid JSON: ${(err as Error).message}`, { file, expected: what });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => describeIssue(i, format));
    const first = issues[0]!;
    const more = issues.slice(1).map((i) => `  ${i.jsonPath}: ${i.message} (expected ${i.expected})`);
    throw new GamepipeError(first.message, {
      file,
      jsonPath: first.jsonPath,
      expected: first.expected,
      ...(more.length ? { detail: `other problems:\n${more.join('\n')}` } : {}),
    });
  }
  return result.data;
}

/** Parses layout JSON text; every problem names the file and the JSON path. */
export function parseLayout(text: string, file: string): Layout {
  return parseJsonWith(layoutSchema, text, file, 'the layout format (see docs/layouts.md)', 'a JSON object');
}

export function loadLayout(file: string): LoadedLayout {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (err) {
    throw new GamepipeError(`cannot read layout: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      file,
      expected: 'a readable layout JSON file',
    });
  }
  return { layout: parseLayout(text, file), file, dir: path.dirname(abs) };
}

import fs from 'node:fs';
import path from 'node:path';
import { GamepipeError } from '../core/errors.js';
import { parseJsonWith } from '../layout/load.js';
import { EventMapper } from './apply.js';
import { mappingSchema, type Mapping } from './schema.js';

const FORMAT = 'the event-mapping format (see docs/events.md, "Event mappings")';

/** Parses mapping JSON text; every problem names the file and the JSON path. */
export function parseMapping(text: string, file: string): Mapping {
  return parseJsonWith(mappingSchema, text, file, FORMAT, 'an event-mapping JSON object');
}

/** Reads and checks a mapping file, ready to apply. */
export function loadMapping(file: string): EventMapper {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (err) {
    throw new GamepipeError(`cannot read event mapping: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      file,
      expected: 'a readable event-mapping JSON file',
    });
  }
  return new EventMapper(parseMapping(text, file), abs);
}

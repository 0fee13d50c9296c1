import fs from 'node:fs';
import path from 'node:path';
import { schemaFiles } from './schemas.js';

/**
 * Writes the JSON Schema files under `schemas/` from the catalog. After changing
 * src/events/catalog.ts, regenerate them with
 *
 *   npx tsx -e "import('./src/events/contractFiles.ts').then((m) => m.writeContractFiles('.'))"
 *
 * test/events/schemas.test.ts fails while the files and the catalog disagree.
 */
export function renderSchemaFile(schema: unknown): string {
  return JSON.stringify(schema, null, 2) + '\n';
}

export function writeContractFiles(rootDir: string): string[] {
  const written: string[] = [];
  for (const [relative, schema] of schemaFiles()) {
    const file = path.join(rootDir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, renderSchemaFile(schema));
    written.push(relative);
  }
  return written;
}

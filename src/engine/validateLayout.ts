import type { GamepipePaths } from '../core/paths.js';
import { loadLayout } from '../layout/load.js';
import type { Layout } from '../layout/schema.js';
import { inferVarType, type VarType, type Vars } from '../layout/vars.js';
import { compileLayout } from './compile.js';
import { DuckEngine } from './duckdb.js';
import { sqlError } from './sqlErrors.js';

const SAMPLE: Record<VarType, string> = {
  date: '2000-01-01',
  timestamp: '2000-01-01T00:00:00Z',
  integer: '0',
  number: '0',
  identifier: 'x',
  string: 'x',
};

/**
 * Checks a layout without data: the format, the vars, the template, and the transform's
 * SQL syntax (parsed by DuckDB). Vars not given get a sample value of their type.
 * Returns the job name.
 */
/** The given vars plus a sample value of the right type for every other var the layout uses. */
export function withSampleVars(layout: Layout, given: Vars): Vars {
  const vars: Vars = { ...given };
  const placeholders = JSON.stringify(layout).matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g);
  for (const [, name] of placeholders) {
    if (name && vars[name] === undefined && name !== 'lake' && name !== 'home' && !layout.vars?.[name]) {
      vars[name] = SAMPLE[inferVarType(name)];
    }
  }
  for (const [name, spec] of Object.entries(layout.vars ?? {})) {
    if (vars[name] === undefined && spec.default === undefined) vars[name] = spec.values?.[0] ?? SAMPLE[spec.type];
  }
  return vars;
}

export async function validateLayoutFile(file: string, given: Vars, paths: GamepipePaths): Promise<string> {
  const loaded = loadLayout(file);
  const job = compileLayout(loaded, withSampleVars(loaded.layout, given), paths);
  const engine = await DuckEngine.open(paths.tmp);
  try {
    for (const [i, statement] of job.statements.entries()) {
      try {
        await engine.connection.extractStatements(statement);
      } catch (err) {
        throw sqlError(err, statement, `SQL syntax of transform statement ${i + 1}`, {
          file: job.file,
          job: job.name,
          jsonPath: job.layout.transformSql !== undefined ? '$.transformSql' : '$.transformTemplate',
        });
      }
    }
  } finally {
    engine.close();
  }
  return job.name;
}

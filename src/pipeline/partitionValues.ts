import path from 'node:path';
import { GamepipeError, withErrorContext } from '../core/errors.js';
import type { GamepipePaths } from '../core/paths.js';
import { builtinVars } from '../engine/compile.js';
import { DuckEngine } from '../engine/duckdb.js';
import { registerFileSource } from '../engine/sources/fileSource.js';
import { renderPlaceholders } from '../layout/render.js';
import { checkVarValue, inferVarType, type Vars } from '../layout/vars.js';
import { PIPELINE_FILE, type PipelineDefinition } from './definition.js';

/**
 * Dynamic partitions: a pipeline.json may say, per var, how to list its values (`partitions`).
 * A var set that lacks such a var becomes one var set per value, e.g. `pipeline run funnel
 * --vars logDate=D` runs once per game with level events that day. A var set whose query
 * returns nothing is dropped (nothing to run for it).
 */
export async function expandVarSets(def: PipelineDefinition, varSets: Vars[], paths: GamepipePaths): Promise<Vars[]> {
  const specs = Object.entries(def.settings.partitions ?? {});
  if (specs.length === 0) return varSets;
  let sets = varSets.map((given) => ({ ...def.settings.vars, ...given }));
  for (const [name, spec] of specs) {
    const next: Vars[] = [];
    for (const vars of sets) {
      if (vars[name] !== undefined) {
        next.push(vars);
        continue;
      }
      for (const value of await listValues(def, name, spec, vars, paths)) next.push({ ...vars, [name]: value });
    }
    sets = next;
  }
  return sets;
}

async function listValues(
  def: PipelineDefinition,
  name: string,
  spec: NonNullable<PipelineDefinition['settings']['partitions']>[string],
  given: Vars,
  paths: GamepipePaths,
): Promise<string[]> {
  const file = path.join(def.dir, PIPELINE_FILE);
  const at = `$.partitions.${name}`;
  const vars = { ...given, ...builtinVars(paths) };
  const engine = await DuckEngine.open(paths.tmp, { threads: 1 });
  try {
    for (const [i, source] of spec.inputSources.entries()) {
      const jsonPath = `${at}.inputSources[${i}].path`;
      try {
        await registerFileSource(engine, source, renderPlaceholders(source.path, vars, { file, jsonPath }), { file, jsonPath });
      } catch (err) {
        throw withErrorContext(err, { file, jsonPath });
      }
    }
    const sql = renderPlaceholders(spec.sql, vars, { file, jsonPath: `${at}.sql` });
    let rows: Record<string, unknown>[];
    try {
      rows = await engine.rows<Record<string, unknown>>(sql);
    } catch (err) {
      throw new GamepipeError(`listing the values of var "${name}" failed: ${(err as Error).message.split('\n')[0]}`, {
        file,
        jsonPath: `${at}.sql`,
        expected: 'a DuckDB query over the inputSources returning the values in its first column',
      });
    }
    const values = [...new Set(rows.map((r) => Object.values(r)[0]).filter((v) => v !== null && v !== undefined).map(String))].sort();
    const type = inferVarType(name);
    const bad = values.find((v) => !checkVarValue(type, v));
    if (bad !== undefined) {
      throw new GamepipeError(`var "${name}": the partition query returned ${JSON.stringify(bad)}, which is not a valid value`, {
        file,
        jsonPath: `${at}.sql`,
        expected: 'values safe as a var (letters, digits and _ . : @ + / - or space)',
      });
    }
    return values;
  } finally {
    engine.close();
  }
}

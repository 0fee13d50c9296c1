import type { GamepipePaths } from '../core/paths.js';
import { GamepipeError } from '../core/errors.js';
import type { LoadedLayout } from '../layout/load.js';
import { renderPlaceholders, renderTemplate } from '../layout/render.js';
import type { FileOutput, FileSource, JdbcOutput, JdbcSource, Layout } from '../layout/schema.js';
import { isQuery, splitSqlStatements } from '../layout/sqlSplit.js';
import { resolveVars, type Vars } from '../layout/vars.js';

/**
 * parse → compile → execute (dbt's split): compiling renders every `{var}` and template with
 * checked vars, so the executor and `--dry-run` see exactly the same SQL and paths.
 */
export type CompiledSource =
  | { kind: 'file'; source: FileSource; path: string; jsonPath: string }
  | { kind: 'jdbc'; source: JdbcSource; query: string; jsonPath: string };

export type CompiledOutput =
  | { kind: 'file'; output: FileOutput; path: string }
  | { kind: 'jdbc'; output: JdbcOutput };

export interface CompiledJob {
  name: string;
  layer: string | undefined;
  file: string;
  layout: Layout;
  vars: Vars;
  sources: CompiledSource[];
  /** The transform's statements after rendering; the last one is the output query. */
  statements: string[];
  output: CompiledOutput;
}

export function builtinVars(paths: GamepipePaths): Vars {
  return { lake: paths.lake, home: paths.home };
}

export function compileLayout(loaded: LoadedLayout, given: Vars, paths: GamepipePaths): CompiledJob {
  const { layout, file } = loaded;
  const context = { file, job: layout.name };
  const vars = resolveVars(given, layout.vars ?? {}, builtinVars(paths), context);
  const at = (jsonPath: string) => ({ file, jsonPath });

  const sources: CompiledSource[] = layout.inputSources.map((source, i) => {
    const jsonPath = `$.inputSources[${i}]`;
    if (source.type === 'file') {
      return { kind: 'file', source, path: renderPlaceholders(source.path, vars, at(`${jsonPath}.path`)), jsonPath };
    }
    const query = renderPlaceholders(source.query, vars, at(`${jsonPath}.query`)).trim().replace(/;+\s*$/, '');
    return { kind: 'jdbc', source, query, jsonPath };
  });

  const transform = layout.transformSql !== undefined
    ? renderPlaceholders(layout.transformSql, vars, at('$.transformSql'))
    : renderTemplate(layout.transformTemplate!, loaded.dir, vars, { file });
  const statements = splitSqlStatements(transform);
  const last = statements[statements.length - 1];
  if (last === undefined || !isQuery(last)) {
    throw new GamepipeError('the transform must end with a SELECT (its rows are the job output)', {
      file,
      job: layout.name,
      jsonPath: layout.transformSql !== undefined ? '$.transformSql' : '$.transformTemplate',
      expected: 'statements separated by ";" whose last one is a SELECT / WITH … SELECT',
    });
  }

  const out = layout.output;
  const output: CompiledOutput = out.type === 'file'
    ? { kind: 'file', output: out, path: renderPlaceholders(out.path, vars, at('$.output.path')) }
    : {
        kind: 'jdbc',
        output: {
          ...out,
          ...(out.partition
            ? {
                partition: Object.fromEntries(
                  Object.entries(out.partition).map(([k, v]) => [k, renderPlaceholders(v, vars, at(`$.output.partition.${k}`))]),
                ),
              }
            : {}),
          ...(out.ddl ? { ddl: renderPlaceholders(out.ddl, vars, at('$.output.ddl')) } : {}),
        },
      };

  return { name: layout.name, layer: layout.layer, file, layout, vars, sources, statements, output };
}

import { z } from 'zod';
import { checkSchema } from '../engine/checks/schema.js';
import { VAR_TYPES } from './vars.js';

/**
 * The layout contract (DESIGN.md "Layout"): one job = input sources, a transform, an output.
 * Objects are strict so a misspelled key is an error that names it, not a silent no-op.
 */
const name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a name of letters, digits and _ (it becomes a SQL view name)');

const varSpec = z.strictObject({
  type: z.enum(VAR_TYPES),
  default: z.string().optional(),
  required: z.boolean().optional(),
  values: z.array(z.string()).optional(),
  description: z.string().optional(),
});

const fileSource = z.strictObject({
  name,
  type: z.literal('file'),
  /** A file, a folder (read recursively) or a glob; `{var}` placeholders allowed. */
  path: z.string().min(1),
  format: z.enum(['parquet', 'csv', 'ndjson', 'json']),
  /** When false, a missing path yields an empty source instead of an error (needs `columns`). */
  required: z.boolean().optional(),
  /** Column types (DuckDB SQL types): enforced for csv/json, and the schema of an empty optional source. */
  columns: z.record(z.string(), z.string()).optional(),
  /** CSV only. */
  delimiter: z.string().length(1).optional(),
  header: z.boolean().optional(),
});

const jdbcSource = z.strictObject({
  name,
  type: z.literal('jdbc'),
  connection: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a connection name like WAREHOUSE'),
  query: z.string().min(1),
  /** When false, a query on a table that does not exist yet yields an empty source (needs `columns`). */
  required: z.boolean().optional(),
  /** DuckDB column types of the empty source used when the table does not exist yet. */
  columns: z.record(z.string(), z.string()).optional(),
});

export const inputSourceSchema = z.discriminatedUnion('type', [fileSource, jdbcSource]);
export const fileSourceSchema = fileSource;

const fileOutput = z.strictObject({
  type: z.literal('file'),
  path: z.string().min(1),
  format: z.literal('parquet').default('parquet'),
  mode: z.enum(['overwrite', 'overwritePartitions', 'append']),
  partitionBy: z.array(z.string().min(1)).optional(),
});

const jdbcOutput = z.strictObject({
  type: z.literal('jdbc'),
  connection: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a connection name like WAREHOUSE'),
  /** `table` or `schema.table`. */
  table: z.string().regex(/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/, 'a table name like kpi_daily or serving.kpi_daily'),
  mode: z.enum(['overwrite', 'deleteInsert', 'upsert', 'append']),
  /** deleteInsert: the partition replaced, column → value (`{var}` allowed). */
  partition: z.record(z.string(), z.string()).optional(),
  /** upsert: the key columns. */
  keys: z.array(z.string().min(1)).optional(),
  /** Explicit CREATE TABLE statement used when the table is absent (else it is created from the result schema). */
  ddl: z.string().optional(),
});

export const outputSchema = z.discriminatedUnion('type', [fileOutput, jdbcOutput]);

export const layoutSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name,
    layer: z.string().optional(),
    description: z.string().optional(),
    vars: z.record(z.string(), varSpec).optional(),
    /** Jobs this one needs that the graph cannot infer from paths and tables. */
    dependsOn: z.array(z.string()).optional(),
    /**
     * The vars this job is keyed by, when fewer than the run's: in a pipeline run over many var
     * sets it runs once per distinct value of these vars, after every task of its upstream jobs
     * in the var sets that map to it (fan-in, e.g. a per-game index after all the game's days).
     */
    partitionedBy: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a var name')).min(1).optional(),
    inputSources: z.array(inputSourceSchema).default([]),
    transformSql: z.string().min(1).optional(),
    transformTemplate: z.string().min(1).optional(),
    output: outputSchema,
    /** Data checks on the result, run in DuckDB before the output is written (docs/layouts.md, Checks). */
    checks: z.array(checkSchema).optional(),
  })
  .superRefine((layout, ctx) => {
    if ((layout.transformSql === undefined) === (layout.transformTemplate === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['transformSql'],
        message: 'exactly one of transformSql or transformTemplate',
      });
    }
    if (layout.partitionedBy) {
      // The job sees only its partition vars: a required var outside them could never be set.
      for (const [name, spec] of Object.entries(layout.vars ?? {})) {
        if (spec.required !== false && spec.default === undefined && !layout.partitionedBy.includes(name)) {
          ctx.addIssue({ code: 'custom', path: ['partitionedBy'], message: `the required var "${name}" among the partition vars (the job sees only them)` });
        }
      }
      if (new Set(layout.partitionedBy).size !== layout.partitionedBy.length) {
        ctx.addIssue({ code: 'custom', path: ['partitionedBy'], message: 'each var once' });
      }
    }
    const seen = new Set<string>();
    layout.inputSources.forEach((source, i) => {
      if (seen.has(source.name.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: ['inputSources', i, 'name'], message: `a unique source name ("${source.name}" is used twice)` });
      }
      seen.add(source.name.toLowerCase());
      if (source.required === false && !source.columns) {
        ctx.addIssue({ code: 'custom', path: ['inputSources', i, 'columns'], message: 'columns, to give an optional source its schema when the path is missing' });
      }
    });
    const out = layout.output;
    if (out.type === 'jdbc') {
      if (out.mode === 'deleteInsert' && (!out.partition || Object.keys(out.partition).length === 0)) {
        ctx.addIssue({ code: 'custom', path: ['output', 'partition'], message: 'a partition spec like {"ds": "{logDate}"} for mode deleteInsert' });
      }
      if (out.mode === 'upsert' && (!out.keys || out.keys.length === 0)) {
        ctx.addIssue({ code: 'custom', path: ['output', 'keys'], message: 'key columns for mode upsert' });
      }
    }
    if (out.type === 'file' && out.mode === 'overwritePartitions' && !out.partitionBy?.length) {
      ctx.addIssue({ code: 'custom', path: ['output', 'partitionBy'], message: 'partitionBy columns for mode overwritePartitions' });
    }
  });

export type Layout = z.infer<typeof layoutSchema>;
export type InputSource = z.infer<typeof inputSourceSchema>;
export type FileSource = z.infer<typeof fileSource>;
export type JdbcSource = z.infer<typeof jdbcSource>;
export type Output = z.infer<typeof outputSchema>;
export type FileOutput = z.infer<typeof fileOutput>;
export type JdbcOutput = z.infer<typeof jdbcOutput>;

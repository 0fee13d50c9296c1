import { z } from 'zod';
import { checkSchema } from './checks.js';
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
  /** The source table the query reads: named in errors (a missing column) and the watermark's table. */
  table: z.string().regex(/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/, 'a table name like users').optional(),
  /** Read only the rows changed since the last successful run (docs/layouts.md, Incremental sources). */
  incremental: z
    .strictObject({
      /** A column of the query's result that moves forward whenever a row changes (updated_at, created_at). */
      column: name,
      /** Rows with column ≥ watermark − lookBack are re-read (a PostgreSQL interval, default '0 seconds'). */
      lookBack: z.string().regex(/^\d+\s*(seconds?|minutes?|hours?|days?)$/, "an interval like '2 minutes'").optional(),
      /** The source system the watermark is kept under (default: the connection name, lower-cased). */
      system: name.optional(),
    })
    .optional(),
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

const scd2Spec = z.strictObject({
  /** Columns whose change starts a new version; other columns are overwritten on the current version. */
  tracked: z.array(name).min(1),
  /** The surrogate key column (an identity column of the table). */
  surrogateKey: name,
  /** A result column: when the row's state began (e.g. updated_at). */
  validFrom: name,
  /** A result column used instead of validFrom for a key's first version (e.g. created_at). */
  firstValidFrom: name.optional(),
  /** A boolean result column: true closes the key's current version (a deleted row) instead of adding one. */
  deleted: name.optional(),
  /** Column names of the table (defaults valid_from, valid_to, is_current, loaded_at). */
  validFromColumn: name.default('valid_from'),
  validToColumn: name.default('valid_to'),
  currentColumn: name.default('is_current'),
  loadedAtColumn: name.default('loaded_at'),
});

const lookupSpec = z.strictObject({
  /** The output column set to the looked-up value (added to the table; the result must not have it). */
  column: name,
  /** The versioned table in the same connection (an scd2 output). */
  table: z.string().regex(/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/, 'a table name like dim_users'),
  /** Result column → column of the looked-up table. */
  match: z.record(name, name),
  /** The result column holding the event time the version must be valid at. */
  at: name,
  /** The looked-up table's column copied into `column` (e.g. user_key). */
  value: name,
  validFrom: name.default('valid_from'),
  loadedAt: name.default('loaded_at'),
});

const jdbcOutput = z.strictObject({
  type: z.literal('jdbc'),
  connection: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a connection name like WAREHOUSE'),
  /** `table` or `schema.table`. */
  table: z.string().regex(/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/, 'a table name like kpi_daily or serving.kpi_daily'),
  mode: z.enum(['overwrite', 'deleteInsert', 'upsert', 'append', 'scd2']),
  /** deleteInsert: the partition replaced, column → value (`{var}` allowed). */
  partition: z.record(z.string(), z.string()).optional(),
  /** upsert and scd2: the key columns (the natural key). */
  keys: z.array(z.string().min(1)).optional(),
  /** scd2: how versions are kept (docs/layouts.md, SCD2 output). */
  scd2: scd2Spec.optional(),
  /** Keys resolved in the target database as of a time (docs/layouts.md, Point-in-time lookups). */
  lookups: z.array(lookupSpec).optional(),
  /** upsert and scd2: on a full load (every incremental source read whole), keys absent from the result are deleted (upsert) or closed (scd2). */
  deleteMissingOnFullLoad: z.boolean().optional(),
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
      if ((out.mode === 'upsert' || out.mode === 'scd2') && (!out.keys || out.keys.length === 0)) {
        ctx.addIssue({ code: 'custom', path: ['output', 'keys'], message: `key columns for mode ${out.mode}` });
      }
      if ((out.mode === 'scd2') !== (out.scd2 !== undefined)) {
        ctx.addIssue({ code: 'custom', path: ['output', 'scd2'], message: out.mode === 'scd2' ? 'an scd2 spec (tracked, surrogateKey, validFrom) for mode scd2' : 'scd2 only with mode scd2' });
      }
      if (out.deleteMissingOnFullLoad && out.mode !== 'upsert' && out.mode !== 'scd2') {
        ctx.addIssue({ code: 'custom', path: ['output', 'deleteMissingOnFullLoad'], message: 'deleteMissingOnFullLoad only with mode upsert or scd2' });
      }
      if (out.lookups?.length && out.mode === 'scd2') {
        ctx.addIssue({ code: 'custom', path: ['output', 'lookups'], message: 'lookups on an upsert, append, overwrite or deleteInsert output' });
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
export type Scd2Spec = z.infer<typeof scd2Spec>;
export type LookupSpec = z.infer<typeof lookupSpec>;

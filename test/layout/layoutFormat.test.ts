import { describe, expect, it } from 'vitest';
import { GamepipeError } from '../../src/core/errors.js';
import { parseLayout } from '../../src/layout/load.js';
import { errorText } from '../helpers/errors.js';

const base = {
  name: 'job',
  inputSources: [{ name: 'src', type: 'file', path: '/x', format: 'parquet' }],
  transformSql: 'SELECT * FROM src',
  output: { type: 'file', path: '/out', mode: 'overwrite' },
};

function errorOf(layout: unknown): GamepipeError {
  try {
    parseLayout(JSON.stringify(layout), 'layouts/job.json');
  } catch (err) {
    return err as GamepipeError;
  }
  throw new Error('expected an error');
}

describe('layout format', () => {
  it('accepts the DESIGN.md example', () => {
    const layout = parseLayout(
      JSON.stringify({
        name: 'item_gain',
        layer: 'cons',
        inputSources: [
          { name: 'main_data', type: 'file', path: '{lake}/etl/item_gain/ds={logDate}', format: 'parquet' },
          { name: 'user_profile', type: 'jdbc', connection: 'WAREHOUSE', query: 'SELECT user_id, country_code FROM user_profile' },
        ],
        transformSql: 'SELECT m.*, p.country_code FROM main_data m LEFT JOIN user_profile p USING (user_id)',
        output: { type: 'jdbc', connection: 'WAREHOUSE', table: 'item_gain', mode: 'deleteInsert', partition: { ds: '{logDate}' } },
      }),
      'x.json',
    );
    expect(layout.inputSources).toHaveLength(2);
  });

  it('names an unknown key with its file and JSON path', () => {
    const err = errorOf({ ...base, output: { ...base.output, partitonBy: ['ds'] } });
    expect(err.format()).toMatch(/^layouts\/job\.json: \$\.output: unknown key "partitonBy"/);
  });

  it('names an invalid mode and lists the accepted ones', () => {
    const err = errorOf({ ...base, output: { ...base.output, mode: 'replace' } });
    expect(err.context.jsonPath).toBe('$.output.mode');
    expect(err.format()).toMatch(/expected: one of "overwrite", "overwritePartitions", "append"/);
  });

  it('requires a partition for deleteInsert and keys for upsert', () => {
    const jdbc = { type: 'jdbc', connection: 'WAREHOUSE', table: 't' };
    expect(errorOf({ ...base, output: { ...jdbc, mode: 'deleteInsert' } }).context.jsonPath).toBe('$.output.partition');
    expect(errorOf({ ...base, output: { ...jdbc, mode: 'upsert' } }).context.jsonPath).toBe('$.output.keys');
  });

  it('requires exactly one of transformSql and transformTemplate', () => {
    expect(errorOf({ ...base, transformTemplate: 't.sql.j2' }).format()).toMatch(/exactly one of transformSql or transformTemplate/);
  });

  it('reports a wrong source type and malformed JSON', async () => {
    expect(errorOf({ ...base, inputSources: [{ name: 'a', type: 'ftp', path: '/x' }] }).context.jsonPath).toBe('$.inputSources[0].type');
    expect(await errorText(() => parseLayout('{"name": ', 'bad.json'))).toMatch(/^bad\.json: not valid JSON/);
  });
});

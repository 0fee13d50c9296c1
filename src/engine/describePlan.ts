import type { ConnectionRegistry } from '../connections/registry.js';
import type { CompiledJob } from './compile.js';
import { describeFileWrite } from './outputs/fileOutput.js';
import { mergeStatements } from './outputs/jdbcOutput.js';
import { describeFileSourceRead } from './sources/fileSource.js';
import { OUTPUT_RELATION } from './runJob.js';

/** The `--dry-run` text: the rendered SQL and the read/write plan; touches no data. */
export function describePlan(job: CompiledJob, connections: ConnectionRegistry): string {
  const lines: string[] = [];
  lines.push(`job ${job.name}${job.layer ? ` (layer ${job.layer})` : ''} — ${job.file}`);
  const shownVars = Object.entries(job.vars).map(([k, v]) => `${k}=${v}`).join(', ');
  lines.push(`vars: ${shownVars}`, '', 'read:');
  for (const s of job.sources) {
    if (s.kind === 'file') {
      lines.push(`  ${s.source.name}: ${s.source.format} ${s.path}${s.source.required === false ? ' (optional)' : ''}`);
      lines.push(`    ${describeFileSourceRead(s.source, s.path)}`);
    } else {
      const info = connections.describe(s.source.connection);
      lines.push(`  ${s.source.name}: jdbc ${info.name} (${info.kind}: ${info.location}), COPY out → DuckDB table`);
      lines.push(...s.query.split('\n').map((l) => `    ${l}`));
    }
  }
  lines.push('', 'transform:');
  job.statements.forEach((statement, i) => {
    lines.push(`  -- statement ${i + 1}${i === job.statements.length - 1 ? ` (output → ${OUTPUT_RELATION})` : ''}`);
    lines.push(...statement.split('\n').map((l) => `  ${l}`));
  });
  lines.push('', 'write:');
  if (job.output.kind === 'file') {
    lines.push(`  ${describeFileWrite(job.output.output, job.output.path)}`);
  } else {
    const out = job.output.output;
    const info = connections.describe(out.connection);
    lines.push(`  ${info.name}.${out.table} (${info.kind}: ${info.location}), mode ${out.mode}, in one transaction:`);
    lines.push(`    create ${out.table} if absent${out.ddl ? ' (from output.ddl)' : ' (from the result schema)'}`);
    lines.push(`    COPY rows into a temporary staging table`);
    for (const st of mergeStatements(out, 'staging', ['<result columns>'])) {
      lines.push(`    ${st.sql}${st.params.length ? `   -- ${st.params.map((p) => JSON.stringify(p)).join(', ')}` : ''}`);
    }
  }
  return lines.join('\n');
}

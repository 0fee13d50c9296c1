import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FileOutput } from '../../layout/schema.js';
import type { DuckEngine } from '../duckdb.js';
import { moveFilesInto, stagedPublish, swapIn } from '../../lake/publish.js';
import { sqlIdent, sqlString } from '../../sql/quote.js';

/**
 * Writes the job's result as Parquet under a folder. DuckDB writes into a hidden staging
 * folder beside the target (same filesystem), then folders are swapped by rename, so a
 * reader sees the old data or the new data, never a half-written mix:
 * - overwrite: the whole target folder is replaced;
 * - overwritePartitions: only the `col=value` folders present in the result are replaced;
 * - append: new uniquely named files are moved in next to the existing ones.
 */
export interface FileWriteResult {
  rowsWritten: number;
  partitions: string[];
}

function partitionDirs(root: string, depth: number): string[] {
  if (depth === 0) return [''];
  const out: string[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    for (const rest of partitionDirs(path.join(root, entry.name), depth - 1)) {
      out.push(rest ? path.join(entry.name, rest) : entry.name);
    }
  }
  return out.sort();
}

export function describeFileWrite(output: FileOutput, target: string): string {
  const partition = output.partitionBy?.length ? ` partitioned by ${output.partitionBy.join(', ')}` : '';
  const how = {
    overwrite: 'replace the whole folder',
    overwritePartitions: 'replace only the partitions present in the result',
    append: 'add new files next to the existing ones',
  }[output.mode];
  return `write parquet to ${target}${partition}: ${how} (staged, then swapped in by rename)`;
}

export async function writeFileOutput(
  engine: DuckEngine,
  relation: string,
  output: FileOutput,
  target: string,
): Promise<FileWriteResult> {
  const partitionBy = output.partitionBy ?? [];
  return stagedPublish(
    target,
    async (staging) => {
      fs.mkdirSync(staging, { recursive: true });
      const options = ['FORMAT parquet', 'COMPRESSION zstd'];
      let destination = staging;
      if (partitionBy.length) {
        options.push(`PARTITION_BY (${partitionBy.map(sqlIdent).join(', ')})`, `FILENAME_PATTERN 'part-{uuid}'`, 'OVERWRITE_OR_IGNORE');
      } else {
        destination = path.join(staging, `part-${randomUUID()}.parquet`);
      }
      // The relation may be a view (a streamed result): it is read once, by this COPY, which counts.
      const rowsWritten = Number(await engine.scalar(`COPY (SELECT * FROM ${sqlIdent(relation)}) TO ${sqlString(destination)} (${options.join(', ')})`));
      const partitions = partitionDirs(staging, partitionBy.length).filter((p) => p !== '');
      return { rowsWritten, partitions };
    },
    (staging, _target, { partitions }) => {
      switch (output.mode) {
        case 'overwrite':
          swapIn(staging, target);
          break;
        case 'overwritePartitions':
          for (const partition of partitions) swapIn(path.join(staging, partition), path.join(target, partition));
          break;
        case 'append':
          moveFilesInto(staging, target);
          break;
      }
    },
  );
}

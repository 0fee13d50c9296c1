import fs from 'node:fs';
import path from 'node:path';
import { GamepipeError } from '../core/errors.js';
import type { CompiledJob } from '../engine/compile.js';

/**
 * The job graph, inferred from what each compiled job reads and writes: a file source under
 * another job's output folder (or a folder containing it), or a jdbc query naming another
 * job's output table on the same connection, is an edge; `dependsOn` adds edges inference
 * cannot see. A job that reads its own output carries state from one run to the next
 * (cumulative tables): backfills run its dates in order.
 */
export interface JobNode {
  name: string;
  job: CompiledJob;
  /** Jobs this one waits for. */
  dependsOn: string[];
  /** Why each dependency exists ("reads …", "dependsOn"). */
  reasons: Record<string, string>;
  /** Reads its own output (e.g. yesterday's cumulative state). */
  stateful: boolean;
}

export interface JobGraph {
  nodes: Map<string, JobNode>;
  /** Job names in a valid execution order. */
  order: string[];
}

const GLOB = /[*?[]/;

function folderOf(readPath: string): string {
  const cut = readPath.search(GLOB);
  const prefix = cut === -1 ? readPath : readPath.slice(0, cut);
  return path.resolve(cut === -1 ? prefix : path.dirname(prefix + 'x'));
}

function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(b + path.sep) || b.startsWith(a + path.sep);
}

/** Table names a query reads: identifiers after FROM or JOIN (schema-qualified or not), lower-cased. */
export function tablesRead(query: string): Set<string> {
  const names = new Set<string>();
  const stripped = query.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/'(?:[^']|'')*'/g, "''");
  for (const m of stripped.matchAll(/\b(?:from|join)\s+((?:"[^"]+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"[^"]+"|[A-Za-z_][\w$]*))?)/gi)) {
    const parts = m[1]!.split('.').map((p) => p.trim().replace(/^"|"$/g, '').toLowerCase());
    names.add(parts.join('.'));
    names.add(parts[parts.length - 1]!);
  }
  return names;
}

function writesTable(job: CompiledJob): { connection: string; table: string; base: string } | null {
  if (job.output.kind !== 'jdbc') return null;
  const table = job.output.output.table.toLowerCase();
  return { connection: job.output.output.connection.toUpperCase(), table, base: table.split('.').pop()! };
}

/** What job `reader` reads of job `writer`'s output, or null. */
function readsOutputOf(reader: CompiledJob, writer: CompiledJob): string | null {
  const table = writesTable(writer);
  for (const source of reader.sources) {
    if (source.kind === 'file' && writer.output.kind === 'file') {
      if (overlaps(folderOf(source.path), path.resolve(writer.output.path))) return `reads ${source.path}`;
    }
    if (source.kind === 'jdbc' && table && source.source.connection.toUpperCase() === table.connection) {
      const read = tablesRead(source.query);
      if (read.has(table.table) || read.has(table.base)) return `reads ${table.connection}.${writer.output.kind === 'jdbc' ? writer.output.output.table : ''}`;
    }
  }
  // An output's point-in-time lookups read the looked-up table in the output's connection.
  if (table && reader.output.kind === 'jdbc' && reader.output.output.connection.toUpperCase() === table.connection) {
    const looked = (reader.output.output.lookups ?? []).map((l) => l.table.toLowerCase());
    if (reader !== writer && (looked.includes(table.table) || looked.includes(table.base))) return `looks up ${table.connection}.${table.table}`;
  }
  return null;
}

/**
 * `known`: every job name of the pipeline, when `jobs` is a selection (`--only`): a dependsOn
 * naming a job outside the selection is then no edge instead of an error.
 */
export function buildGraph(jobs: CompiledJob[], known: string[] = jobs.map((j) => j.name)): JobGraph {
  const nodes = new Map<string, JobNode>();
  for (const job of jobs) {
    nodes.set(job.name, { name: job.name, job, dependsOn: [], reasons: {}, stateful: readsOutputOf(job, job) !== null });
  }
  for (const reader of jobs) {
    const node = nodes.get(reader.name)!;
    for (const writer of jobs) {
      if (writer === reader) continue;
      const why = readsOutputOf(reader, writer);
      if (why) node.reasons[writer.name] = why;
    }
    for (const dep of reader.layout.dependsOn ?? []) {
      if (!nodes.has(dep) && known.includes(dep)) continue;
      if (!nodes.has(dep)) {
        throw new GamepipeError(`dependsOn names an unknown job "${dep}"`, {
          file: reader.file,
          job: reader.name,
          jsonPath: '$.dependsOn',
          expected: `one of ${known.join(', ')}`,
        });
      }
      node.reasons[dep] ??= 'dependsOn';
    }
    node.dependsOn = Object.keys(node.reasons).sort();
  }
  return { nodes, order: topologicalOrder(nodes) };
}

function topologicalOrder(nodes: Map<string, JobNode>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      const node = nodes.get(name)!;
      throw new GamepipeError(`dependency cycle: ${cycle.join(' → ')}`, {
        file: node.job.file,
        job: name,
        expected: 'jobs that do not read each other\'s outputs in a loop (check paths, tables and dependsOn)',
        detail: cycle.slice(1).map((n, i) => `  ${cycle[i]} ${nodes.get(cycle[i]!)!.reasons[n] ?? 'needs'} (${n})`).join('\n'),
      });
    }
    state.set(name, 'visiting');
    for (const dep of nodes.get(name)!.dependsOn) visit(dep, [...trail, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of [...nodes.keys()].sort()) visit(name, []);
  return order;
}

/**
 * Required file reads that no job of the pipeline writes and that are missing on disk:
 * reported before anything runs instead of failing halfway through.
 */
export function danglingReads(graph: JobGraph, selected: Set<string>): string[] {
  const problems: string[] = [];
  const writers = [...graph.nodes.values()].map((n) => n.job).filter((j) => j.output.kind === 'file');
  for (const name of selected) {
    const job = graph.nodes.get(name)!.job;
    job.sources.forEach((source, i) => {
      if (source.kind !== 'file' || source.source.required === false) return;
      const folder = folderOf(source.path);
      const produced = writers.some((w) => w.name !== name && selected.has(w.name) && w.output.kind === 'file' && overlaps(folder, path.resolve(w.output.path)));
      if (produced) return;
      if (!fs.existsSync(GLOB.test(source.path) ? folder : source.path)) {
        problems.push(`${job.file}: $.inputSources[${i}].path: job ${name}: reads ${source.path}, which no job of the pipeline writes and which does not exist`);
      }
    });
  }
  return problems;
}

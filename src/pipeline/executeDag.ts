/**
 * Runs tasks of a DAG: every task whose dependencies succeeded starts as soon as a slot is
 * free, up to `concurrency` at once. A failed task skips its transitive dependents while
 * independent branches run to the end.
 */
export type TaskStatus = 'succeeded' | 'failed' | 'skipped';

export interface DagTask {
  id: string;
  dependsOn: string[];
}

export interface DagOutcome {
  status: Map<string, TaskStatus>;
  /** For skipped tasks: the failed task upstream. */
  skippedBecause: Map<string, string>;
}

export async function executeDag<T extends DagTask>(
  tasks: T[],
  options: {
    concurrency: number;
    run: (task: T) => Promise<boolean>;
    onSkip?: (task: T, failedUpstream: string) => Promise<void> | void;
  },
): Promise<DagOutcome> {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const dependents = new Map<string, string[]>(tasks.map((t) => [t.id, []]));
  const waitingOn = new Map<string, number>();
  for (const t of tasks) {
    const deps = t.dependsOn.filter((d) => byId.has(d)); // deps outside the set are already satisfied
    waitingOn.set(t.id, deps.length);
    for (const d of deps) dependents.get(d)!.push(t.id);
  }
  const status = new Map<string, TaskStatus>();
  const skippedBecause = new Map<string, string>();
  const ready = tasks.filter((t) => waitingOn.get(t.id) === 0).map((t) => t.id);
  const running = new Set<Promise<void>>();

  const skipDownstream = async (failed: string, root: string) => {
    for (const id of dependents.get(failed) ?? []) {
      if (status.has(id)) continue;
      status.set(id, 'skipped');
      skippedBecause.set(id, root);
      await options.onSkip?.(byId.get(id)!, root);
      await skipDownstream(id, root);
    }
  };

  const start = (id: string) => {
    const task = byId.get(id)!;
    const p: Promise<void> = (async () => {
      let ok = false;
      try {
        ok = await options.run(task);
      } catch {
        ok = false;
      }
      status.set(id, ok ? 'succeeded' : 'failed');
      if (ok) {
        for (const next of dependents.get(id)!) {
          const left = waitingOn.get(next)! - 1;
          waitingOn.set(next, left);
          if (left === 0 && !status.has(next)) ready.push(next);
        }
      } else {
        await skipDownstream(id, id);
      }
    })().finally(() => running.delete(p));
    running.add(p);
  };

  while (ready.length > 0 || running.size > 0) {
    while (ready.length > 0 && running.size < options.concurrency) start(ready.shift()!);
    if (running.size > 0) await Promise.race(running);
  }
  return { status, skippedBecause };
}

/** What a long run reports as its tasks start and finish (the CLI shows it: src/cli/progress.ts). */
export interface ProgressEvent {
  event: 'task_started' | 'task_finished';
  task: string;
  status?: 'succeeded' | 'failed' | 'skipped';
  rowsWritten?: number;
  durationMs?: number;
  error?: string;
}

export interface ProgressReporter {
  start(total: number): void;
  update(event: ProgressEvent): void;
  stop(): void;
}

export class SilentProgress implements ProgressReporter {
  start(): void {}
  update(): void {}
  stop(): void {}
}

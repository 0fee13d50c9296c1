import cliProgress from 'cli-progress';
import type { ProgressEvent, ProgressReporter } from '../pipeline/progress.js';

/**
 * What a long run shows: on a TTY a progress bar (jobs done / total, the jobs running now,
 * ETA) on stderr; otherwise one JSON line per event on stdout for machines and logs.
 */

export class JsonLinesProgress implements ProgressReporter {
  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(l + '\n')) {}
  start(total: number): void {
    this.write(JSON.stringify({ event: 'run_started', total, at: new Date().toISOString() }));
  }
  update(event: ProgressEvent): void {
    this.write(JSON.stringify({ ...event, at: new Date().toISOString() }));
  }
  stop(): void {}
}

export class TtyProgress implements ProgressReporter {
  private readonly bar = new cliProgress.SingleBar(
    {
      format: '{bar} {value}/{total} jobs | {failed} failed | ETA {eta_formatted} | {running}',
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  private readonly running = new Set<string>();
  private failed = 0;
  private done = 0;

  start(total: number): void {
    this.bar.start(total, 0, { running: '', failed: 0 });
  }
  update(event: ProgressEvent): void {
    if (event.event === 'task_started') this.running.add(event.task);
    else {
      this.running.delete(event.task);
      this.done++;
      if (event.status === 'failed') this.failed++;
    }
    const running = [...this.running].slice(0, 3).join(', ') + (this.running.size > 3 ? ` +${this.running.size - 3}` : '');
    this.bar.update(this.done, { running, failed: this.failed });
  }
  stop(): void {
    this.bar.stop();
  }
}

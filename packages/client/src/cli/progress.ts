/** Progress bars (cli-progress, on stderr), one per run; nothing at all with --json or off a terminal. */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

export interface RunState {
  label: string;
  status: string;
  progress: number;
  transactions: number;
  totalTransactions: number;
}

export class RunBars {
  private readonly multi: MultiBar | null;
  private readonly bars = new Map<string, SingleBar>();

  constructor(enabled: boolean) {
    this.multi = enabled
      ? new MultiBar(
          {
            format:
              ' {label} |{bar}| {percentage}% | {transactions}/{totalTransactions} transactions | {status}',
            hideCursor: true,
            clearOnComplete: false,
            stopOnComplete: false,
            etaBuffer: 20,
          },
          Presets.shades_classic,
        )
      : null;
  }

  update(id: string, state: RunState): void {
    if (!this.multi) return;
    const payload = {
      label: state.label.padEnd(16).slice(0, 24),
      status: state.status,
      transactions: state.transactions.toLocaleString('en-US'),
      totalTransactions: state.totalTransactions ? state.totalTransactions.toLocaleString('en-US') : '?',
    };
    const value = Math.round(state.progress * 1000);
    const bar = this.bars.get(id);
    if (bar) bar.update(value, payload);
    else this.bars.set(id, this.multi.create(1000, value, payload));
  }

  stop(): void {
    this.multi?.stop();
  }
}

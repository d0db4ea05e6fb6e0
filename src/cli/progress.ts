/**
 * A one-line progress bar on stderr (stdout stays clean for output). Redraws at most every 200 ms; a no-op when
 * stderr is not a terminal except for the final line.
 */
export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #started = Date.now();
  #last = 0;

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = total;
  }

  update(done: number, extra = ''): void {
    const now = Date.now();
    if (now - this.#last < 200 || !process.stderr.isTTY) return;
    this.#last = now;
    process.stderr.write('\r' + this.#line(done, extra) + '\x1b[K');
  }

  finish(done: number, extra = ''): void {
    process.stderr.write(process.stderr.isTTY ? '\r' + this.#line(done, extra) + '\x1b[K\n' : this.#line(done, extra) + '\n');
  }

  #line(done: number, extra: string): string {
    const frac = this.#total > 0 ? Math.min(1, done / this.#total) : 1;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '-');
    const secs = (Date.now() - this.#started) / 1000;
    return `${this.#label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(done)}/${mb(this.#total)} ${secs.toFixed(1)}s ${extra}`;
  }
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)}MB`;

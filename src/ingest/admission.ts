import { Unavailable } from '../store/index.ts';

export interface GateOptions {
  /** Uploads served at once. */
  slots: number;
  /** Uploads allowed to wait for a slot; one more is refused at once. */
  queue: number;
  /** Longest wait for a slot, ms; a request still waiting then is refused. */
  maxWaitMs: number;
}

/**
 * Admission of bulk uploads (HL7 files and CSV over HTTP): `slots` at once, a bounded FIFO queue behind them, a bounded
 * wait. A request that cannot be served is refused with `Unavailable` (503 + Retry-After) instead of hanging, and
 * nothing of it is landed. Once `close()` is called (shutdown) everything waiting is refused and nothing new enters;
 * `closed` tells a running upload to stop between its chunks.
 */
export class UploadGate {
  readonly #options: GateOptions;
  #busy = 0;
  #closed = false;
  readonly #waiting: Array<{ admit: () => void; refuse: (err: Unavailable) => void }> = [];

  constructor(options: GateOptions) {
    this.#options = options;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Uploads being served and waiting now. */
  get load(): { busy: number; waiting: number } {
    return { busy: this.#busy, waiting: this.#waiting.length };
  }

  /** Runs `fn` once a slot is free; refuses with `Unavailable` when the queue is full, the wait too long or the gate closed. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.#enter();
    try {
      return await fn();
    } finally {
      this.#busy--;
      this.#next();
    }
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiting.splice(0)) w.refuse(shuttingDown());
  }

  #enter(): Promise<void> {
    if (this.#closed) return Promise.reject(shuttingDown());
    if (this.#busy < this.#options.slots && !this.#waiting.length) {
      this.#busy++;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.#options.queue) {
      return Promise.reject(new Unavailable(`${this.#busy} uploads are being received and ${this.#waiting.length} are waiting: send again shortly`, this.#retryAfter()));
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        admit: () => {
          clearTimeout(timer);
          this.#busy++;
          resolve();
        },
        refuse: (err: Unavailable) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        const at = this.#waiting.indexOf(entry);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(new Unavailable(`no upload slot became free within ${this.#options.maxWaitMs / 1000} s: send again shortly`, this.#retryAfter()));
      }, this.#options.maxWaitMs);
      this.#waiting.push(entry);
    });
  }

  #next(): void {
    while (this.#busy < this.#options.slots && this.#waiting.length) this.#waiting.shift()!.admit();
  }

  /** When to try again: half the wait bound (uploads ahead finish or time out within it), at least a second. */
  #retryAfter(): number {
    return Math.max(1, Math.ceil(this.#options.maxWaitMs / 2000));
  }
}

const shuttingDown = () => new Unavailable('the server is shutting down: send again to it (or another node) shortly', 10);

/**
 * At most `n` holders at once, the others served in arrival order: bulk landings (CSV batches) of several uploads take
 * turns batch by batch, and together never hold more than `n` of a PostgreSQL pool's connections, so the worker and
 * other requests still find one.
 */
export class Turns {
  readonly #n: number;
  #held = 0;
  readonly #queue: Array<() => void> = [];
  constructor(n: number) {
    this.#n = Math.max(1, n);
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#held < this.#n) this.#held++;
    else await new Promise<void>((resolve) => this.#queue.push(resolve)); // the slot is handed over, not released
    try {
      return await fn();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#held--;
    }
  }
}

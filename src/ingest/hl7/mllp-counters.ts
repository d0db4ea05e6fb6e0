/**
 * What the MLLP listener refused, for operators (`GET /admin/ingest` → `mllp`, `healthbrain hl7-sender refusals`):
 * messages refused because their sender did not authenticate, per reason; framing errors, per kind; connections the
 * listener closed, per cause; and the latest refusals with who claimed what from where, so a misconfigured HIS or a
 * spoofing attempt can be told apart. Counted since the process started (each node its own); every refusal is also
 * logged. The reasons are a closed set, so the counters stay small whatever a hostile client sends.
 */
export class MllpCounters {
  readonly refused: Record<string, number> = {};
  readonly framing: Record<string, number> = {};
  readonly closed: Record<string, number> = {};
  readonly #recent: RecentRefusal[] = [];
  readonly since = new Date();

  refuse(reason: string, detail: Omit<RecentRefusal, 'reason' | 'at'>): void {
    this.refused[reason] = (this.refused[reason] ?? 0) + 1;
    this.#recent.unshift({ reason, at: new Date().toISOString(), ...detail });
    if (this.#recent.length > RECENT) this.#recent.length = RECENT;
  }

  framingError(error: string): void {
    this.framing[error] = (this.framing[error] ?? 0) + 1;
  }

  close(cause: string): void {
    this.closed[cause] = (this.closed[cause] ?? 0) + 1;
  }

  snapshot(): MllpCountersJson {
    return {
      since: this.since.toISOString(), refused: { ...this.refused }, framing: { ...this.framing }, closed: { ...this.closed },
      recent_refusals: this.#recent.map((r) => ({ ...r })),
    };
  }
}

const RECENT = 20;

export interface RecentRefusal {
  reason: string;
  at: string;
  msh3: string;
  msh4: string;
  remote: string;
}

export interface MllpCountersJson {
  since: string;
  refused: Record<string, number>;
  framing: Record<string, number>;
  closed: Record<string, number>;
  recent_refusals: RecentRefusal[];
}

/**
 * The database (or a part of the platform in front of it) cannot take this work now, and nothing of it was done: the
 * caller should try again after `retryAfterSeconds`. Raised instead of waiting without bound — a PostgreSQL pool
 * whose connections are all taken for longer than its connection timeout, an upload queue that is full, a server that
 * is shutting down. The HTTP layer answers it 503 with Retry-After.
 */
export class Unavailable extends Error {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 5) {
    super(message);
    this.name = 'Unavailable';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

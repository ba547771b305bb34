import type { DataSource } from 'typeorm';

/** Counts for one minute, the unit the alert rules aggregate. */
export interface MinuteCounts {
  total: number;
  serverErrors: number;
  authFailures: number;
}

/**
 * Per-minute request counters of this process, flushed to `ops_request_stats` so
 * the alert rules see every process's traffic (and can run in any process, e.g. the
 * scheduler). Adding is O(1); flushing is one upsert per minute touched.
 */
export class RequestStatsRecorder {
  private pending = new Map<number, MinuteCounts>();

  constructor(private readonly clock: { now(): Date }) {}

  private bucket(): MinuteCounts {
    const minute = Math.floor(this.clock.now().getTime() / 60_000) * 60_000;
    let b = this.pending.get(minute);
    if (!b) {
      b = { total: 0, serverErrors: 0, authFailures: 0 };
      this.pending.set(minute, b);
    }
    return b;
  }

  /** Counts one request; `serverError` for a 5xx that is a fault (not a deliberate refusal). */
  request(serverError: boolean): void {
    const b = this.bucket();
    b.total++;
    if (serverError) b.serverErrors++;
  }

  authFailure(): void {
    this.bucket().authFailures++;
  }

  /** Adds the pending counts to the table and forgets them (put back on failure). */
  async flush(db: DataSource): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      for (const [minute, c] of batch) {
        await db.query(
          `INSERT INTO ops_request_stats (minute, total, server_errors, auth_failures) VALUES (to_timestamp($1), $2, $3, $4)
           ON CONFLICT (minute) DO UPDATE SET total = ops_request_stats.total + EXCLUDED.total,
             server_errors = ops_request_stats.server_errors + EXCLUDED.server_errors,
             auth_failures = ops_request_stats.auth_failures + EXCLUDED.auth_failures`,
          [minute / 1000, c.total, c.serverErrors, c.authFailures],
        );
      }
    } catch (err) {
      for (const [minute, c] of batch) {
        const b = this.pending.get(minute);
        if (b) {
          b.total += c.total;
          b.serverErrors += c.serverErrors;
          b.authFailures += c.authFailures;
        } else this.pending.set(minute, c);
      }
      throw err;
    }
  }
}

/** Sums of the stats table over a window, for the alert rules. */
export async function sumRequestStats(db: DataSource, from: Date, to: Date): Promise<MinuteCounts> {
  const rows: { total: string; server_errors: string; auth_failures: string }[] = await db.query(
    `SELECT coalesce(sum(total), 0)::text AS total, coalesce(sum(server_errors), 0)::text AS server_errors,
            coalesce(sum(auth_failures), 0)::text AS auth_failures
       FROM ops_request_stats WHERE minute >= $1 AND minute < $2`,
    [from, to],
  );
  const r = rows[0]!;
  return { total: Number(r.total), serverErrors: Number(r.server_errors), authFailures: Number(r.auth_failures) };
}

/** Drops stats older than `keepHours`. */
export async function pruneRequestStats(db: DataSource, before: Date): Promise<void> {
  await db.query('DELETE FROM ops_request_stats WHERE minute < $1', [before]);
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Operations: per-minute request counters shared by every process (for the 5xx and
 * auth-failure alert rules) and the state of each alert, so that several evaluators
 * notify a firing or resolved alert exactly once.
 */
export class Ops1763760000000 implements MigrationInterface {
  name = 'Ops1763760000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ops_request_stats (
        minute         timestamptz PRIMARY KEY,
        total          integer NOT NULL DEFAULT 0 CHECK (total >= 0),
        server_errors  integer NOT NULL DEFAULT 0 CHECK (server_errors >= 0),
        auth_failures  integer NOT NULL DEFAULT 0 CHECK (auth_failures >= 0)
      )`);
    await q.query(`
      CREATE TABLE ops_alert_states (
        key               text PRIMARY KEY CHECK (length(key) <= 300),
        rule              text NOT NULL,
        severity          text NOT NULL CHECK (severity IN ('warning', 'critical')),
        title             text NOT NULL,
        detail            text NOT NULL,
        firing_since      timestamptz NOT NULL,
        last_notified_at  timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ops_alert_states`);
    await q.query(`DROP TABLE ops_request_stats`);
  }
}

import type { DataSource } from 'typeorm';
import type { Alert } from './alert-rules.js';

/**
 * Alert states in `ops_alert_states`. Each transition is one atomic statement, so
 * when several processes evaluate the same signals only one of them wins the right
 * to notify.
 */
export class AlertStateRepository {
  constructor(private readonly db: DataSource) {}

  /** Marks an alert firing; true when it was not firing before (this caller notifies). */
  async claimFiring(a: Alert, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO ops_alert_states (key, rule, severity, title, detail, firing_since, last_notified_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (key) DO NOTHING RETURNING key`,
      [a.key, a.rule, a.severity, a.title, a.detail, now],
    );
    return rows.length === 1;
  }

  /** Claims a reminder for an alert last notified before `notifiedBefore`. */
  async claimReminder(a: Alert, now: Date, notifiedBefore: Date): Promise<boolean> {
    const [rows] = (await this.db.query(
      `UPDATE ops_alert_states SET last_notified_at = $2, detail = $4 WHERE key = $1 AND last_notified_at < $3 RETURNING key`,
      [a.key, now, notifiedBefore, a.detail],
    )) as [unknown[], number];
    return rows.length === 1;
  }

  /** Alerts currently recorded as firing. */
  async firing(): Promise<Alert[]> {
    return this.db.query(`SELECT key, rule, severity, title, detail FROM ops_alert_states ORDER BY firing_since`);
  }

  /** Clears a firing alert; true when this caller cleared it (and notifies the resolution). */
  async claimResolved(key: string): Promise<boolean> {
    const [rows] = (await this.db.query(`DELETE FROM ops_alert_states WHERE key = $1 RETURNING key`, [key])) as [unknown[], number];
    return rows.length === 1;
  }
}

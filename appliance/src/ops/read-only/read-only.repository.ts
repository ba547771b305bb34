import type { DataSource, EntityManager } from 'typeorm';

/** The kill switch as stored in `appliance_settings` under key `read_only`. */
export interface ReadOnlyState {
  enabled: boolean;
  reason: string | null;
  /** ISO time of the last change. */
  since: string | null;
  /** Actor of the last change. */
  by: string | null;
}

export const READ_ONLY_SETTING = 'read_only';
/** LISTEN/NOTIFY channel every process listens on; the payload is the new state as JSON. */
export const READ_ONLY_CHANNEL = 'officine_read_only';
export const READ_ONLY_OFF: ReadOnlyState = { enabled: false, reason: null, since: null, by: null };

/** Parses a stored or notified state, tolerating anything malformed as "off". */
export function parseReadOnlyState(value: unknown): ReadOnlyState {
  const v = (typeof value === 'string' ? JSON.parse(value) : value) as Partial<ReadOnlyState> | null;
  if (!v || typeof v !== 'object') return READ_ONLY_OFF;
  return {
    enabled: v.enabled === true,
    reason: typeof v.reason === 'string' ? v.reason : null,
    since: typeof v.since === 'string' ? v.since : null,
    by: typeof v.by === 'string' ? v.by : null,
  };
}

/** Reads and writes the switch; a write, its audit entry and its NOTIFY commit together. */
export class ReadOnlyRepository {
  constructor(private readonly db: DataSource) {}

  async get(): Promise<ReadOnlyState> {
    const rows: { value: unknown }[] = await this.db.query('SELECT value FROM appliance_settings WHERE key = $1', [READ_ONLY_SETTING]);
    return rows[0] ? parseReadOnlyState(rows[0].value) : READ_ONLY_OFF;
  }

  /** Stores the state; `alsoInTx` runs in the same transaction (the audit entry). */
  async set(state: ReadOnlyState, alsoInTx?: (m: EntityManager) => Promise<unknown>): Promise<void> {
    const json = JSON.stringify(state);
    await this.db.transaction(async (m) => {
      await m.query(
        `INSERT INTO appliance_settings (key, value, updated_at) VALUES ($1, $2::jsonb, now())
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [READ_ONLY_SETTING, json],
      );
      await alsoInTx?.(m);
      await m.query('SELECT pg_notify($1, $2)', [READ_ONLY_CHANNEL, json]);
    });
  }
}

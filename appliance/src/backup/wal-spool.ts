import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Names PostgreSQL gives archived files: segments, partial segments, backup history and
 * timeline history. provisioning/officine-wal-spool checks the same set (as sh patterns).
 */
export const WAL_FILE_NAME = /^[0-9A-F]{24}(\.partial|\.[0-9A-F]{8}\.backup)?$|^[0-9A-F]{8}\.history$/;

/** What is waiting in the spool: segment names in order and the oldest one's age. */
export interface WalSpoolState {
  segments: string[];
  oldestAgeS: number | null;
}

/** Spooled segments (temp files of officine-wal-spool start with a dot and are skipped). */
export async function walSpoolState(dir: string, now: Date): Promise<WalSpoolState> {
  const segments = (await readdir(dir)).filter((n) => WAL_FILE_NAME.test(n)).sort();
  let oldest: number | null = null;
  for (const n of segments) {
    const m = await stat(join(dir, n)).then((s) => s.mtimeMs, () => null);
    if (m !== null && (oldest === null || m < oldest)) oldest = m;
  }
  return { segments, oldestAgeS: oldest === null ? null : Math.max(0, Math.round((now.getTime() - oldest) / 1000)) };
}

/** How often the shipper looks at the spool (the scheduler job and `appliance wal ship`). */
export const WAL_SHIP_INTERVAL_S = 5;
/** After a pass where no target took a segment (or that failed), wait this long before the next. */
export const WAL_SHIP_RETRY_MS = 60_000;

/** The spool is late when its oldest segment waits longer than maxAgeS (alert, status). */
export function walSpoolLate(oldestAgeS: number | null, maxAgeS: number): boolean {
  return oldestAgeS !== null && oldestAgeS > maxAgeS;
}

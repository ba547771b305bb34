/** A backup as retention sees it: when it was taken and whether it was verified on this target. */
export interface RetentionItem {
  id: string;
  createdAt: Date;
  verified: boolean;
}

/** 35 dailies and monthlies for 400 days by default (BACKUP_KEEP_DAILY, BACKUP_KEEP_MONTHLY_DAYS). */
export interface RetentionPolicy {
  keepDaily: number;
  keepMonthlyDays: number;
  /** Calendar days and months are those of this zone (Europe/Paris). */
  timeZone: string;
}

const DAY_MS = 86_400_000;

function localDay(d: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

/** The calendar day `n` days before `day` (YYYY-MM-DD arithmetic, immune to DST). */
function minusDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - n)).toISOString().slice(0, 10);
}

/**
 * Decides which backups a target keeps: the newest verified backup of each of the
 * last `keepDaily` calendar days, the first verified backup of each month for
 * `keepMonthlyDays` days, and — whatever the calendar says — the newest verified
 * backup. Unverified backups newer than that one may still be in progress and are
 * kept; older unverified ones are removed. Pure: the caller deletes.
 */
export function planRetention(items: RetentionItem[], now: Date, policy: RetentionPolicy): { keep: string[]; remove: string[] } {
  const keep = new Set<string>();
  const verified = items.filter((i) => i.verified).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const newest = verified[0];
  if (newest) keep.add(newest.id);

  const today = localDay(now, policy.timeZone);
  const dailyDays = new Set(Array.from({ length: policy.keepDaily }, (_, i) => minusDays(today, i)));
  const seenDays = new Set<string>();
  for (const b of verified) {
    const day = localDay(b.createdAt, policy.timeZone);
    if (dailyDays.has(day) && !seenDays.has(day)) {
      seenDays.add(day);
      keep.add(b.id);
    }
  }

  const firstOfMonth = new Map<string, RetentionItem>();
  for (const b of verified) firstOfMonth.set(localDay(b.createdAt, policy.timeZone).slice(0, 7), b); // oldest last wins
  for (const b of firstOfMonth.values()) {
    if (now.getTime() - b.createdAt.getTime() <= policy.keepMonthlyDays * DAY_MS) keep.add(b.id);
  }

  for (const i of items) if (!i.verified && (!newest || i.createdAt > newest.createdAt)) keep.add(i.id);
  return {
    keep: items.filter((i) => keep.has(i.id)).map((i) => i.id),
    remove: items.filter((i) => !keep.has(i.id)).map((i) => i.id),
  };
}

import t from 'tap';
import { planRetention, type RetentionItem } from '../../src/backup/retention.js';

const policy = { keepDaily: 35, keepMonthlyDays: 400, timeZone: 'Europe/Paris' };
const DAY = 86_400_000;
const START = Date.parse('2025-01-01T01:30:00Z'); // 02:30 Paris in winter

/** Paris calendar day (YYYY-MM-DD) of an instant, computed independently of the code under test. */
const parisDay = (d: Date) => d.toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' });

/** Simulates one nightly backup a day for `days` days, retention after each verified one. */
function simulate(days: number, verifiedOn: (day: number) => boolean) {
  let stored: RetentionItem[] = [];
  const everDeletedNewestVerified: string[] = [];
  for (let d = 0; d < days; d++) {
    const now = new Date(START + d * DAY);
    const item = { id: `b${d}`, createdAt: now, verified: verifiedOn(d) };
    stored.push(item);
    if (!item.verified) continue; // retention only after a verified backup
    const newestVerified = stored.filter((s) => s.verified).at(-1)!.id;
    const plan = planRetention(stored, now, policy);
    if (plan.remove.includes(newestVerified)) everDeletedNewestVerified.push(newestVerified);
    stored = stored.filter((s) => plan.keep.includes(s.id));
  }
  return { stored, now: new Date(START + (days - 1) * DAY), everDeletedNewestVerified };
}

t.test('500 days of nightly backups: exactly 35 dailies + first-of-month for 400 days', async (t) => {
  const { stored, now, everDeletedNewestVerified } = simulate(500, () => true);
  // Expected set, by construction: the last 35 days, plus each month's first backup made within 400 days.
  const expected = new Set<string>();
  for (let d = 0; d < 500; d++) {
    const at = new Date(START + d * DAY);
    const ageDays = (now.getTime() - at.getTime()) / DAY;
    if (ageDays < 35) expected.add(`b${d}`);
    if (parisDay(at).endsWith('-01') && ageDays <= 400) expected.add(`b${d}`);
  }
  t.same(new Set(stored.map((s) => s.id)), expected, 'exactly the expected set kept');
  t.equal(stored.filter((s) => (now.getTime() - s.createdAt.getTime()) / DAY < 35).length, 35, '35 dailies');
  const monthlies = stored.filter((s) => (now.getTime() - s.createdAt.getTime()) / DAY >= 35);
  t.ok(monthlies.every((s) => parisDay(s.createdAt).endsWith('-01')), 'older ones are all first-of-month');
  t.equal(monthlies.length, 12, '12 monthlies between 35 and 400 days old');
  t.same(everDeletedNewestVerified, [], 'the newest verified backup was never deleted');
});

t.test('verification failing for 60 days: the last verified backup survives, unverified ones go', async (t) => {
  const { stored, everDeletedNewestVerified } = simulate(500, (d) => d < 440);
  // no retention ran after day 439 (only after a verified backup), so nothing newer was removed
  t.ok(stored.some((s) => s.id === 'b439'), 'last verified backup kept');
  t.same(everDeletedNewestVerified, []);
  // now one verified backup arrives 60 days later: retention keeps it and the previous verified
  const items = [...stored, { id: 'late', createdAt: new Date(START + 500 * DAY), verified: true }];
  const plan = planRetention(items, new Date(START + 500 * DAY), policy);
  t.ok(plan.keep.includes('late'), 'new verified kept');
  t.ok(plan.remove.includes('b470'), 'old unverified removed');
  t.notOk(plan.remove.includes('late'));
});

t.test('the newest verified backup is kept even when older than every window', async (t) => {
  const old = { id: 'old', createdAt: new Date('2020-01-15T01:30:00Z'), verified: true };
  const failed = { id: 'failed', createdAt: new Date('2026-01-15T01:30:00Z'), verified: false };
  const plan = planRetention([old, failed], new Date('2026-01-16T00:00:00Z'), policy);
  t.same(plan.keep, ['old', 'failed'], 'only verified backup kept; newer unverified kept as possibly in progress');
  const plan2 = planRetention([old], new Date('2026-01-16T00:00:00Z'), policy);
  t.same(plan2.remove, [], 'never deletes the last verified backup');
});

t.test('several backups on one day: the newest of the day is the daily', async (t) => {
  const mk = (id: string, iso: string) => ({ id, createdAt: new Date(iso), verified: true });
  const items = [mk('z', '2026-03-01T01:00:00Z'), mk('a', '2026-03-10T01:00:00Z'), mk('b', '2026-03-10T15:00:00Z'), mk('c', '2026-03-11T01:00:00Z')];
  const plan = planRetention(items, new Date('2026-03-11T02:00:00Z'), policy);
  t.same(plan.keep.sort(), ['b', 'c', 'z'], 'newest of each day (z: first of the month)');
  t.same(plan.remove, ['a'], 'the earlier backup of the same day goes');
});

import t from 'tap';
import { userPseudonym, verifyAuditChain } from '../../src/audit/audit.service.js';
import { allJobs } from '../../src/scheduler/all-jobs.js';
import { gdprJobs } from '../../src/gdpr/gdpr.jobs.js';
import type { AppContext } from '../../src/http/app-context.js';
import { runJobOnce } from '../../src/scheduler/job-runner.js';
import { startTestApp } from '../helpers/app.js';
import { createGroupement, createUser } from '../helpers/auth.js';
import { startSmtp } from '../helpers/smtp.js';

const DAY = 86_400_000;
const monthsLater = (d: Date, months: number) => {
  const x = new Date(d.getTime());
  x.setUTCMonth(x.getUTCMonth() + months);
  return x;
};

t.test('inactivity: French warning 30 days before, purge after 24 months, on a moved clock', async (t) => {
  const smtp = await startSmtp(t);
  const app = await startTestApp(t, smtp.env);
  const db = app.app.db;
  const { pharmacyIds } = await createGroupement(db, 1);
  const start = new Date();
  const idle = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0]! });
  const active = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0]! });
  const operator = await createUser(app.app, { role: 'super_admin', totpSecret: 'JBSWY3DPEHPK3PXP' });
  const optedOut = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0]! });
  await db.query(`UPDATE users SET last_login_at = $2 WHERE id = ANY($1)`, [[idle.id, active.id, operator.id, optedOut.id], start]);
  await db.query(`UPDATE users SET email_opt_out = true WHERE id = $1`, [optedOut.id]);

  const job = gdprJobs().find((j) => j.name === 'gdpr.inactivity')!;
  const names = allJobs(app.app, 'postgres://unused').map((j) => j.name);
  for (const n of ['gdpr.inactivity', 'gdpr.erasure-purge', 'invoices.archive-retention', 'invoices.archive-verify']) t.ok(names.includes(n), `${n} registered with the scheduler`);
  const at = (d: Date): AppContext => ({ ...app.app, clock: { now: () => d } });

  // A day before the warning window (24 months minus 31 days): nobody is warned yet.
  // (Not "23 months": depending on today's date that can fall inside the 30-day window.)
  const beforeWindow = new Date(monthsLater(start, 24).getTime() - 31 * DAY);
  t.equal((await runJobOnce(at(beforeWindow), job)).outcome, 'succeeded');
  t.equal(smtp.messages.length, 0, 'no warning a day before the 30-day window');

  // "active" logs in a year later (a real login stamps last_login_at).
  await db.query(`UPDATE users SET last_login_at = $2 WHERE id = $1`, [active.id, monthsLater(start, 12)]);

  // 24 months minus 29 days: the warning goes out (opt-out does not apply: it is essential).
  const warnAt = new Date(monthsLater(start, 24).getTime() - 29 * DAY);
  t.equal((await runJobOnce(at(warnAt), job)).outcome, 'succeeded');
  const mail = await smtp.waitFor((m) => m.to.includes(idle.email));
  t.equal(mail.subject, 'Votre compte Officine va être supprimé pour inactivité');
  t.match(mail.text, /Bonjour Test user .*\n\nVous ne vous êtes pas connecté\(e\) à Officine depuis près de 24 mois\./);
  t.match(mail.text, /seront supprimés le \d{1,2} [a-zéû]+ \d{4}\./, 'date in French');
  t.match(mail.text, /il suffit de vous connecter avant cette date/);
  await smtp.waitFor((m) => m.to.includes(optedOut.email));
  t.notOk(smtp.messages.some((m) => m.to.includes(active.email) || m.to.includes(operator.email)), 'recently active and operator accounts not warned');
  const warned = smtp.messages.length;

  // Run again the same day: no second email.
  await runJobOnce(at(new Date(warnAt.getTime() + 3600_000)), job);
  t.equal(smtp.messages.length, warned, 'warned once');

  // 24 months and a day: idle accounts purged, others kept.
  const purgeAt = new Date(monthsLater(start, 24).getTime() + 2 * DAY);
  const r = await runJobOnce(at(purgeAt), job);
  t.equal(r.outcome, 'succeeded');
  const rows = (await db.query(`SELECT id, email, erased_at IS NOT NULL AS erased FROM users WHERE id = ANY($1)`, [[idle.id, active.id, operator.id, optedOut.id]])) as { id: string; email: string; erased: boolean }[];
  const byId = new Map(rows.map((x) => [x.id, x]));
  t.equal(byId.get(idle.id)!.erased, true, 'idle account purged');
  t.match(byId.get(idle.id)!.email, /^erased-/);
  t.equal(byId.get(optedOut.id)!.erased, true, 'opted-out idle account purged too (it was warned)');
  t.equal(byId.get(active.id)!.erased, false, 'account used a year in is kept');
  t.equal(byId.get(operator.id)!.erased, false, 'super-admin accounts are not purged by the job');
  const ev = (await db.query(`SELECT details FROM audit_log WHERE action = 'gdpr.erasure.completed' ORDER BY id`)) as { details: { subject: string; reason: string } }[];
  t.same(ev.map((e) => e.details.reason), ['inactivity', 'inactivity']);
  t.ok(ev.some((e) => e.details.subject === userPseudonym(idle.id)));
  t.ok((await verifyAuditChain(db)).ok, 'audit chain verifies after the purge');

  // A login after the warning cancels it: warned, then logs in, then the purge date passes.
  const late = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0]! });
  await db.query(`UPDATE users SET last_login_at = $2 WHERE id = $1`, [late.id, start]);
  await runJobOnce(at(warnAt), job);
  await smtp.waitFor((m) => m.to.includes(late.email));
  const { UserRepository } = await import('../../src/auth/user.repository.js');
  await new UserRepository(db.manager).recordLogin(late.id, new Date(warnAt.getTime() + DAY));
  await runJobOnce(at(purgeAt), job);
  t.equal((await db.query(`SELECT erased_at FROM users WHERE id = $1`, [late.id]))[0].erased_at, null, 'a login after the warning keeps the account');
});

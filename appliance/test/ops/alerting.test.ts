import t from 'tap';
import { loadConfig } from '../../src/config/config.js';
import { createMailer } from '../../src/mail/mailer.js';
import { createLogger } from '../../src/logging/logger.js';
import { AlertingService } from '../../src/ops/alerting/alerting.service.js';
import { AlertStateRepository } from '../../src/ops/alerting/alert-state.repository.js';
import type { AlertSignals } from '../../src/ops/alerting/alert-rules.js';
import { createNotifiers, type AlertNotification, type AlertNotifier } from '../../src/ops/alerting/notifiers.js';
import { cronFireTimes, detectMissedRuns } from '../../src/ops/alerting/missed-runs.js';
import { RequestStatsRecorder, sumRequestStats } from '../../src/ops/metrics/request-stats.js';
import { createTestDataSource } from '../helpers/db.js';
import { tempDir } from '../helpers/app.js';
import { startSmtp } from '../helpers/smtp.js';

const H = 3_600_000;
const base = (now: Date): AlertSignals => ({ now, http: null, disks: [{ mount: '/', usePercent: 50 }], certificate: null, backups: null, agents: null, jobs: null });

class Recorder implements AlertNotifier {
  readonly name = 'recorder';
  sent: AlertNotification[] = [];
  async send(n: AlertNotification) {
    this.sent.push(n);
  }
}

t.test('notifications: once when firing, reminder after 24 h, once when resolved, never twice across evaluators', async (t) => {
  const { ds } = await createTestDataSource(t);
  const rec = new Recorder();
  const svcA = new AlertingService(new AlertStateRepository(ds), [rec], createLogger('silent'), 'https://officine.example');
  const svcB = new AlertingService(new AlertStateRepository(ds), [rec], createLogger('silent'), 'https://officine.example');
  const t0 = new Date('2026-03-10T12:00:00Z');
  const full = (now: Date): AlertSignals => ({ ...base(now), disks: [{ mount: '/', usePercent: 91 }] });

  let r = await svcA.evaluate(base(t0));
  t.same(r.notified, [], 'quiet: nothing sent');
  await Promise.all([svcA.evaluate(full(t0)), svcB.evaluate(full(t0))]);
  t.same(rec.sent.map((n) => [n.kind, n.alert.key]), [['firing', 'disk:/']], 'two evaluators, one notification');
  r = await svcB.evaluate(full(new Date(t0.getTime() + H)));
  t.same(r.notified, [], 'still firing an hour later: no repeat');
  r = await svcA.evaluate(full(new Date(t0.getTime() + 25 * H)));
  t.same(r.notified, [{ kind: 'reminder', key: 'disk:/' }], 'reminder after 24 h');
  await Promise.all([svcA.evaluate(base(new Date(t0.getTime() + 26 * H))), svcB.evaluate(base(new Date(t0.getTime() + 26 * H)))]);
  t.same(rec.sent.map((n) => n.kind), ['firing', 'reminder', 'resolved'], 'resolved once');
});

t.test('email through a real SMTP listener (smtp-server) and a failing channel reported', async (t) => {
  const smtp = await startSmtp(t);
  const dir = tempDir(t);
  const config = loadConfig({
    envFile: '/dev/null',
    env: {
      DATA_DIR: dir, ...smtp.env,
      ALERT_EMAIL_TO: 'it@groupement.example, astreinte@groupement.example',
      ALERT_WEBHOOK_URLS: 'https://127.0.0.1/hook', ALERT_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    },
  });
  const notifiers = createNotifiers(config, createMailer(config));
  t.same(notifiers.map((n) => n.name), ['email', 'webhook'], 'both channels configured');
  const { ds } = await createTestDataSource(t);
  const svc = new AlertingService(new AlertStateRepository(ds), notifiers, createLogger('silent'), 'https://officine.example');
  const r = await svc.evaluate({ ...base(new Date()), certificate: { notAfter: new Date(Date.now() + 5 * 24 * H), subject: 'CN=officine.example' } });
  t.same(r.notified, [{ kind: 'firing', key: 'tls_expiry' }]);
  t.equal(smtp.messages.length, 1, 'one email');
  const mail = smtp.messages[0]!;
  t.same(mail.to, ['it@groupement.example', 'astreinte@groupement.example'], 'to every recipient');
  t.equal(mail.subject, '[Officine ALERTE] Certificat TLS bientôt expiré', 'French subject');
  t.match(mail.text, /Le certificat CN=officine\.example expire le/, 'French body');
  t.equal(r.deliveryErrors.length, 1, 'the loopback webhook was refused and reported, email still sent');
  t.match(r.deliveryErrors[0], /webhook: .*loopback/);
});

t.test('missed runs from job runs + cron expressions', async (t) => {
  const now = new Date('2026-03-10T12:00:00Z');
  const jobs = [{ name: 'backup', cron: '15 2 * * *' }, { name: 'stats', cron: '0 * * * *' }];
  const fires = cronFireTimes('15 2 * * *', new Date('2026-03-08T00:00:00Z'), now);
  t.same(fires.map((d) => d.toISOString()), ['2026-03-08T02:15:00.000Z', '2026-03-09T02:15:00.000Z', '2026-03-10T02:15:00.000Z'], 'fire times (UTC)');
  t.same(cronFireTimes('15 2 * * *', new Date('2026-03-08T00:00:00Z'), new Date('2026-03-09T00:00:00Z'), 'Europe/Paris').map((d) => d.toISOString()), ['2026-03-08T01:15:00.000Z'], 'time zone honoured');
  t.same(
    cronFireTimes('0 9 * * 1', new Date('2026-03-20T00:00:00Z'), new Date('2026-04-01T00:00:00Z'), 'Europe/Paris').map((d) => d.toISOString()),
    ['2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z'],
    'weekday and the switch to summer time',
  );
  t.same(cronFireTimes('0 0 L * *', new Date('2026-02-01T00:00:00Z'), new Date('2026-04-02T00:00:00Z')).map((d) => d.toISOString()), ['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z'], 'last day of month');

  const hourly = (from: number, to: number, skip: number[] = []) =>
    Array.from({ length: to - from }, (_, i) => from + i)
      .filter((h) => !skip.includes(h))
      .map((h) => ({ job: 'stats', startedAt: new Date(now.getTime() - h * H + 3000), finishedAt: null, outcome: 'succeeded' }));
  const daily = [2, 26].map((hAgo) => ({ job: 'backup', startedAt: new Date(Date.UTC(2026, 2, hAgo === 2 ? 10 : 9, 2, 15, 20)), finishedAt: null, outcome: 'succeeded' }));
  const since = new Date(now.getTime() - 30 * H);

  t.same(detectMissedRuns(jobs, [...daily, ...hourly(0, 31)], { now, since }), [], 'every run present: nothing missed');
  const missed = detectMissedRuns(jobs, [...daily.slice(1), ...hourly(0, 31, [5, 6])], { now, since });
  t.same(
    missed.map((m) => `${m.job}@${m.expectedAt.toISOString()}`),
    ['backup@2026-03-10T02:15:00.000Z', 'stats@2026-03-10T06:00:00.000Z', 'stats@2026-03-10T07:00:00.000Z'],
    'missing runs found, late-but-within-grace runs accepted',
  );
  const late = [{ job: 'backup', startedAt: new Date('2026-03-10T02:40:00Z'), finishedAt: null, outcome: 'failed' }];
  t.same(detectMissedRuns([jobs[0]!], late, { now, since: new Date('2026-03-10T00:00:00Z') }).length, 1, 'a start 25 min late counts as missed (grace 10 min)');
  t.same(detectMissedRuns(jobs, [], { now, since: new Date(now.getTime() - 5 * 60_000) }), [], 'nothing is missed within the grace period');
});

t.test('request stats: flushed per minute, summed over a window', async (t) => {
  const { ds } = await createTestDataSource(t);
  let clock = new Date('2026-03-10T12:00:10Z');
  const rec = new RequestStatsRecorder({ now: () => clock });
  for (let i = 0; i < 98; i++) rec.request(false);
  rec.request(true);
  rec.request(true);
  rec.authFailure();
  clock = new Date('2026-03-10T12:01:30Z');
  rec.request(false);
  await rec.flush(ds);
  rec.request(true);
  await rec.flush(ds);
  const w = await sumRequestStats(ds, new Date('2026-03-10T11:57:00Z'), new Date('2026-03-10T12:02:00Z'));
  t.same(w, { total: 102, serverErrors: 3, authFailures: 1 });
  t.same(await sumRequestStats(ds, new Date('2026-03-10T12:01:00Z'), new Date('2026-03-10T12:02:00Z')), { total: 2, serverErrors: 1, authFailures: 0 }, 'window bounds');
});

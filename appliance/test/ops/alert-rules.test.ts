import t from 'tap';
import {
  agentSilentRule, authFailureRule, backupRule, certificateRule, DEFAULT_THRESHOLDS as TH, diskRule, evaluateRules, jobRule, serverErrorRule,
  type AlertSignals,
} from '../../src/ops/alerting/alert-rules.js';

const now = new Date('2026-03-10T12:00:00Z');
const H = 3_600_000;
const ago = (h: number) => new Date(now.getTime() - h * H);
const quiet: AlertSignals = {
  now,
  http: { last5m: { total: 1000, serverErrors: 10, authFailures: 3 }, previousHour: { total: 12000, serverErrors: 20, authFailures: 36 } },
  disks: [{ mount: '/', usePercent: 85 }, { mount: '/var/lib/officine', usePercent: 40 }],
  certificate: { notAfter: new Date(now.getTime() + 15 * 24 * H), subject: 'CN=officine.example' },
  backups: [{ target: 'nas', lastBackupAt: ago(23.9), lastBackupOk: true, lastDrillAt: ago(24 * 20), lastDrillOk: true }],
  agents: [{ agentId: 'a1', pharmacyName: 'Pharmacie du Port', lastSeenAt: ago(47.9) }, { agentId: 'a2', pharmacyName: 'Pharmacie Neuve', lastSeenAt: null }],
  jobs: { missed: [], lastFailures: [] },
};

t.test('the quiet baseline raises nothing (every value just inside its threshold)', async (t) => {
  t.same(evaluateRules(quiet), []);
  t.same(evaluateRules({ now, http: null, disks: null, certificate: null, backups: null, agents: null, jobs: null }), [], 'unavailable signals raise nothing');
});

t.test('5xx > 1 % over 5 min', async (t) => {
  t.same(serverErrorRule(quiet, TH), [], 'exactly 1 % is quiet');
  const fire = serverErrorRule({ ...quiet, http: { ...quiet.http!, last5m: { total: 1000, serverErrors: 11, authFailures: 0 } } }, TH);
  t.equal(fire.length, 1);
  t.match(fire[0], { key: 'http_5xx', severity: 'critical', detail: /11 réponses 5xx sur 1000/ });
  t.same(serverErrorRule({ ...quiet, http: { ...quiet.http!, last5m: { total: 10, serverErrors: 5, authFailures: 0 } } }, TH), [], 'too few requests to judge');
});

t.test('auth failure spike', async (t) => {
  t.same(authFailureRule(quiet, TH), [], 'normal level quiet');
  const spike = { ...quiet, http: { ...quiet.http!, last5m: { total: 100, serverErrors: 0, authFailures: 16 } } }; // baseline 3 → 5× = 15
  t.match(authFailureRule(spike, TH), [{ key: 'auth_failures', title: /Pic/ }], 'over 5× the hourly baseline fires');
  const busyHour = { ...spike, http: { ...spike.http!, previousHour: { total: 1, serverErrors: 0, authFailures: 240 } } }; // baseline 20
  t.same(authFailureRule(busyHour, TH), [], 'not a spike against a high baseline');
  const absolute = { ...busyHour, http: { ...busyHour.http!, last5m: { total: 1, serverErrors: 0, authFailures: 50 } } };
  t.equal(authFailureRule(absolute, TH).length, 1, 'absolute ceiling always fires');
  const tiny = { ...quiet, http: { last5m: { total: 1, serverErrors: 0, authFailures: 9 }, previousHour: { total: 0, serverErrors: 0, authFailures: 0 } } };
  t.same(authFailureRule(tiny, TH), [], 'a handful of typos is not a spike');
});

t.test('no backup in 24 h', async (t) => {
  t.same(backupRule(quiet, TH), []);
  t.match(backupRule({ ...quiet, backups: [{ ...quiet.backups![0]!, lastBackupAt: ago(24.1) }] }, TH), [{ key: 'backup_stale:nas', severity: 'critical' }], 'older than 24 h');
  t.equal(backupRule({ ...quiet, backups: [{ ...quiet.backups![0]!, lastBackupOk: false }] }, TH).length, 1, 'last backup failed');
  t.match(backupRule({ ...quiet, backups: [{ ...quiet.backups![0]!, lastBackupAt: null, lastBackupOk: null }] }, TH), [{ detail: /Aucune sauvegarde/ }], 'never backed up');
  t.match(backupRule({ ...quiet, backups: [] }, TH), [{ key: 'backup_stale:none' }], 'no target at all');
});

t.test('disk > 85 %', async (t) => {
  t.same(diskRule(quiet, TH), [], '85 % is quiet');
  t.match(diskRule({ ...quiet, disks: [{ mount: '/', usePercent: 85.5 }] }, TH), [{ key: 'disk:/', severity: 'warning' }]);
  t.match(diskRule({ ...quiet, disks: [{ mount: '/', usePercent: 97 }] }, TH), [{ severity: 'critical' }], 'critical when nearly full');
});

t.test('certificate expiring within 14 days', async (t) => {
  t.same(certificateRule(quiet, TH), [], '15 days left is quiet');
  t.match(certificateRule({ ...quiet, certificate: { ...quiet.certificate!, notAfter: new Date(now.getTime() + 13 * 24 * H) } }, TH), [{ key: 'tls_expiry', severity: 'warning', detail: /13 jour/ }]);
  t.match(certificateRule({ ...quiet, certificate: { ...quiet.certificate!, notAfter: ago(1) } }, TH), [{ title: 'Certificat TLS expiré', severity: 'critical' }]);
});

t.test('agent silent > 48 h', async (t) => {
  t.same(agentSilentRule(quiet, TH), [], '47.9 h is quiet; never-seen agents are not "silent"');
  t.match(agentSilentRule({ ...quiet, agents: [{ agentId: 'a1', pharmacyName: 'Pharmacie du Port', lastSeenAt: ago(48.1) }] }, TH), [{ key: 'agent_silent:a1', title: /Pharmacie du Port/ }]);
});

t.test('missed and failed jobs', async (t) => {
  t.same(jobRule(quiet, TH), []);
  const r = jobRule({ ...quiet, jobs: { missed: [{ job: 'backup', expectedAt: ago(26) }, { job: 'backup', expectedAt: ago(2) }], lastFailures: [{ job: 'drill', at: ago(1), error: 'pg_restore exited 1' }] } }, TH);
  t.match(r, [{ key: 'job_missed:backup', detail: /2 exécution/ }, { key: 'job_failed:drill', detail: /pg_restore/ }], 'one alert per job');
});

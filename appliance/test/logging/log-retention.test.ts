import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/config.js';
import type { AppContext } from '../../src/http/app-context.js';
import { DailyLogFiles, logRetentionJobs, pruneLogFiles } from '../../src/logging/log-retention.js';
import { createLogger, hashEmail } from '../../src/logging/logger.js';
import { tempDir } from '../helpers/app.js';
import { scanLogDir } from '../helpers/log-scan.js';

t.test('daily log files, deleted after LOG_RETENTION_DAYS', async (t) => {
  const dir = tempDir(t);
  let now = new Date('2026-01-30T23:59:00Z');
  const logger = createLogger('info', new DailyLogFiles(dir, { now: () => now }));
  logger.info({ user: 'pharmacien@exemple.fr' }, 'before midnight');
  now = new Date('2026-01-31T00:01:00Z');
  logger.info('after midnight');
  t.same(readdirSync(dir).sort(), ['appliance-2026-01-30.log', 'appliance-2026-01-31.log'], 'one file per UTC day');
  const line = JSON.parse(readFileSync(join(dir, 'appliance-2026-01-30.log'), 'utf8')) as { user: string };
  t.equal(line.user, hashEmail('pharmacien@exemple.fr'), 'emails hashed in the files too');
  for (const d of ['2025-12-01', '2025-12-31', '2026-01-01']) writeFileSync(join(dir, `appliance-${d}.log`), '{}\n');
  writeFileSync(join(dir, 'notes.txt'), 'not a log');
  t.same(pruneLogFiles(dir, 30, new Date('2026-01-31T12:00:00Z')), ['appliance-2025-12-01.log', 'appliance-2025-12-31.log'], 'older than 30 days removed');
  t.same(readdirSync(dir).sort(), ['appliance-2026-01-01.log', 'appliance-2026-01-30.log', 'appliance-2026-01-31.log', 'notes.txt']);

  const config = loadConfig({ envFile: '/dev/null', env: { LOG_DIR: dir, LOG_RETENTION_DAYS: '7', DATA_DIR: tempDir(t) } });
  const app = { config, clock: { now: () => new Date('2026-02-10T00:00:00Z') } } as unknown as AppContext;
  const jobs = logRetentionJobs(app);
  t.same(jobs.map((j) => j.name), ['logs.retention']);
  t.same(await jobs[0]!.run({ app, runId: 'x', signal: new AbortController().signal }), { removed: ['appliance-2026-01-01.log', 'appliance-2026-01-30.log', 'appliance-2026-01-31.log'] });
  t.same(logRetentionJobs({ config: loadConfig({ envFile: '/dev/null', env: { DATA_DIR: tempDir(t) } }) } as unknown as AppContext), [], 'stdout/journald path: journald applies its own limit');
});

t.test('the suite-wide log scan fails on a plain email or a recorded name', async (t) => {
  const dir = tempDir(t);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'personal-values-1.txt'), 'Camille Durand 9f2a\nuser-abc@pharmacie.test\n');
  writeFileSync(join(dir, 'app-1.log'), `{"msg":"ok","user":"${hashEmail('user-abc@pharmacie.test')}"}\n`);
  t.same(scanLogDir(dir).findings, [], 'hashed emails pass');
  writeFileSync(join(dir, 'app-2.log'), '{"msg":"login","who":"someone@else.fr"}\n{"msg":"renamed to Camille Durand 9f2a"}\n');
  const r = scanLogDir(dir);
  t.same(r.findings.map((f) => [f.file, f.line, f.kind]), [['app-2.log', 1, 'email'], ['app-2.log', 2, 'personal_value']]);
  t.notOk(JSON.stringify(r.findings).includes('someone@else.fr'), 'the report masks what it found');
});

import t, { type Test } from 'tap';
import { APP_VERSION } from '../../src/config/version.js';
import type { AppContext } from '../../src/http/app-context.js';
import { createLogger } from '../../src/logging/logger.js';
import type { ScheduledJob } from '../../src/scheduler/job.js';
import { JobRunRepository } from '../../src/scheduler/job-run.repository.js';
import { runJobOnce } from '../../src/scheduler/job-runner.js';
import { Scheduler } from '../../src/scheduler/scheduler.service.js';
import { createTestDataSource } from '../helpers/db.js';
import { testConfig } from '../backup/helpers.js';

async function appContext(t: Test): Promise<AppContext> {
  const { ds } = await createTestDataSource(t);
  return { config: testConfig(t, {}), db: ds, logger: createLogger('silent'), secrets: undefined as never, clock: { now: () => new Date() }, version: APP_VERSION };
}

t.test('every run is journaled with start, end, outcome and error', async (t) => {
  const app = await appContext(t);
  const ok: ScheduledJob = { name: 'test.ok', cron: '* * * * *', run: async () => ({ n: 1 }) };
  const bad: ScheduledJob = { name: 'test.bad', cron: '* * * * *', run: async () => { throw new Error('boom'); } };
  t.equal((await runJobOnce(app, ok)).outcome, 'succeeded');
  t.equal((await runJobOnce(app, bad)).outcome, 'failed');
  const repo = new JobRunRepository(app.db);
  const [okRun] = await repo.recent('test.ok');
  t.equal(okRun?.outcome, 'succeeded');
  t.ok(okRun?.finishedAt && okRun.finishedAt >= okRun.startedAt, 'start and end recorded');
  t.same(okRun?.details, { n: 1 }, 'details kept');
  const [badRun] = await repo.recent('test.bad');
  t.equal(badRun?.outcome, 'failed');
  t.equal(badRun?.error, 'boom', 'error recorded');
});

t.test('overlapping runs of a job are prevented (advisory lock) and recorded as skipped', async (t) => {
  const app = await appContext(t);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let running = 0;
  let maxRunning = 0;
  const slow: ScheduledJob = {
    name: 'test.slow',
    cron: '* * * * *',
    run: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await gate;
      running--;
    },
  };
  const first = runJobOnce(app, slow);
  await new Promise((r) => setTimeout(r, 200));
  const second = await runJobOnce(app, slow);
  t.same(second, { outcome: 'skipped', reason: 'overlap' }, 'second run skipped while the first holds the lock');
  release();
  t.equal((await first).outcome, 'succeeded');
  t.equal(maxRunning, 1, 'never two at once');
  const runs = await new JobRunRepository(app.db).recent('test.slow');
  t.same(runs.map((r) => r.outcome).sort(), ['skipped', 'succeeded']);
  t.equal((await runJobOnce(app, slow)).outcome, 'succeeded', 'lock released afterwards');
});

t.test('a single active scheduler: the second one stands by until the first stops', async (t) => {
  const app = await appContext(t);
  const jobs: ScheduledJob[] = [{ name: 'test.noop', cron: '0 0 1 1 *', run: async () => undefined }];
  const a = new Scheduler(app, jobs, { standbyRetryMs: 100 });
  await a.start();
  t.ok(a.active, 'first scheduler active');
  const b = new Scheduler(app, jobs, { standbyRetryMs: 100 });
  const bStarted = b.start();
  await new Promise((r) => setTimeout(r, 400));
  t.notOk(b.active, 'second scheduler waits');
  await a.stop();
  await bStarted;
  t.ok(b.active, 'second takes over once the first is gone');
  await b.stop();
  t.throws(() => new Scheduler(app, [{ name: 'x', cron: 'not a cron', run: async () => undefined }]), /invalid cron/);
  t.throws(() => new Scheduler(app, [jobs[0]!, jobs[0]!]), /duplicate/);
});

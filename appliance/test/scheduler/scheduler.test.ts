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

t.test('a quiet job (every few seconds) is journaled only when it did something or failed; overlaps are dropped silently', async (t) => {
  const app = await appContext(t);
  let result: Record<string, unknown> | undefined;
  let fail = false;
  let release: (() => void) | undefined;
  const job: ScheduledJob = {
    name: 'test.quiet',
    cron: '*/5 * * * * *',
    quiet: true,
    run: async () => {
      if (release === undefined) {
        await new Promise<void>((r) => (release = r));
      }
      if (fail) throw new Error('cible injoignable');
      return result;
    },
  };
  const repo = new JobRunRepository(app.db);
  const first = runJobOnce(app, job);
  await new Promise((r) => setTimeout(r, 200));
  t.same(await runJobOnce(app, job), { outcome: 'skipped', reason: 'overlap' }, 'overlap skipped');
  release!();
  t.same(await first, { outcome: 'succeeded', runId: '' }, 'an idle pass succeeds without a journal row');
  t.same(await repo.recent('test.quiet'), [], 'neither the idle pass nor the overlap journaled');
  result = { shipped: 2 };
  const worked = await runJobOnce(app, job);
  t.equal(worked.outcome, 'succeeded');
  fail = true;
  t.equal((await runJobOnce(app, job)).outcome, 'failed');
  const runs = await repo.recent('test.quiet');
  t.same(runs.map((r) => [r.outcome, r.details ?? null, r.error ?? null]).sort(), [['failed', null, 'cible injoignable'], ['succeeded', { shipped: 2 }, null]], 'the pass that worked and the failure are journaled');
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

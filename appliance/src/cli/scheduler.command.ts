import type { Command } from 'commander';
import { createProcessLogger } from '../logging/log-retention.js';
import { allJobs } from '../scheduler/all-jobs.js';
import { runJobOnce } from '../scheduler/job-runner.js';
import { Scheduler } from '../scheduler/scheduler.service.js';
import { fail, loadConfigOrExit, onShutdown, openRuntime, type GlobalOptions } from './bootstrap.js';

/** `appliance scheduler`: the single job runner (advisory lock), or `--run JOB` once. */
export function registerSchedulerCommand(program: Command): void {
  program
    .command('scheduler')
    .description('Run the scheduled jobs (one active scheduler at a time; others stand by). --list to show them, --run NAME to run one now.')
    .option('--list', 'list jobs and their schedules')
    .option('--run <job>', 'run one job now (recorded in job_runs like any run) and exit')
    .action(async (opts: { list?: boolean; run?: string }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = createProcessLogger(config);
      try {
        const rt = await openRuntime(config, logger);
        const jobs = allJobs(rt.app, rt.database.url);
        if (opts.list || opts.run) {
          try {
            if (opts.list) for (const j of jobs) process.stdout.write(`${j.name}\t${j.cron}\t${j.timezone ?? 'UTC'}\n`);
            if (opts.run) {
              const job = jobs.find((j) => j.name === opts.run);
              if (!job) throw new Error(`unknown job ${opts.run}`);
              const r = await runJobOnce(rt.app, job);
              process.stdout.write(`${job.name} : ${r.outcome}${'error' in r && r.error ? ` (${r.error})` : ''}\n`);
              process.exitCode = r.outcome === 'succeeded' ? 0 : 1;
            }
          } finally {
            await rt.close();
          }
          return;
        }
        const scheduler = new Scheduler(rt.app, jobs);
        onShutdown(logger, async () => {
          await scheduler.stop();
          await rt.close();
        });
        await scheduler.start();
      } catch (err) {
        fail(logger, err, 'le planificateur n’a pas pu démarrer');
      }
    });
}

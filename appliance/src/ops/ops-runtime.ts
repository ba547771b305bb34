import type { AppContext } from '../http/app-context.js';
import { authFailures } from './metrics/metrics.js';
import { RequestStatsRecorder } from './metrics/request-stats.js';
import { ReadOnlyRepository } from './read-only/read-only.repository.js';
import { ReadOnlyService } from './read-only/read-only.service.js';
import { ReadOnlyWatcher } from './read-only/read-only.watcher.js';

/** Operations state attached to one AppContext (one per HTTP app). */
export interface OpsRuntime {
  readOnlyService: ReadOnlyService;
  readOnlyWatcher: ReadOnlyWatcher;
  requestStats: RequestStatsRecorder;
}

const runtimes = new WeakMap<AppContext, OpsRuntime>();

/** The database URL behind the app's data source (for the LISTEN connection). */
export function databaseUrl(app: AppContext): string {
  const url = (app.db.options as { url?: string }).url;
  if (!url) throw new Error('data source has no url');
  return url;
}

/** Builds the ops services for an app context once and hands out the same ones after. */
export function opsRuntime(app: AppContext): OpsRuntime {
  let rt = runtimes.get(app);
  if (!rt) {
    const repo = new ReadOnlyRepository(app.db);
    rt = {
      readOnlyService: new ReadOnlyService(repo, app.clock),
      readOnlyWatcher: new ReadOnlyWatcher(databaseUrl(app), repo, app.logger),
      requestStats: new RequestStatsRecorder(app.clock),
    };
    runtimes.set(app, rt);
  }
  return rt;
}

/**
 * Counts a failed authentication (identity module calls this): the Prometheus
 * counter and the per-minute stats behind the "auth failure spike" alert.
 */
export function recordAuthFailure(app: AppContext, reason: string): void {
  authFailures.inc({ reason });
  opsRuntime(app).requestStats.authFailure();
}

/**
 * Background work of an HTTP process: the kill-switch listener and the stats flush.
 * Started before the server listens; the returned function stops both.
 */
export async function startOpsServices(app: AppContext, flushMs = 10_000): Promise<() => Promise<void>> {
  const rt = opsRuntime(app);
  await rt.readOnlyWatcher.start();
  const flush = () => rt.requestStats.flush(app.db).catch((err) => app.logger.warn({ err }, 'request stats flush failed'));
  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await flush();
    await rt.readOnlyWatcher.stop();
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { collectLogStream } from './log-scan.js';

/** The compiled CLI (`appliance`). */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Env for a real `appliance` process on the test database. */
export function cliEnv(dbUrl: string, dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    OFFICINE_ENV_FILE: '/dev/null',
    DATABASE_URL: dbUrl,
    DATA_DIR: dataDir,
    PORT: '0',
    METRICS_PORT: '0',
    ALERT_CHECK_INTERVAL_S: '0',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export interface ServeProcess {
  url: string;
  /** The loopback Prometheus endpoint of this process. */
  metricsUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `appliance serve` and waits for its "listening" log line (killed at teardown). */
export async function spawnServe(t: Test, env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  const done = new Promise<void>((res) => child.once('exit', () => ((exited = true), res())));
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    await done;
  };
  t.teardown(stop);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  // Every log line of the process joins the run's app logs (the minimisation scan reads them).
  collectLogStream(child.stdout!);
  const [url, metricsUrl] = await new Promise<[string, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}\n${err}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/[^"]+)","metricsUrl":"(http:\/\/[^"]+)".*"msg":"appliance listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve([m[1]!, m[2]!]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}:\n${out}\n${err}`));
    });
  });
  return { url, metricsUrl, child, stop };
}

/** Runs the CLI to completion (one implementation, in cli.ts; its log lines join the run's logs). */
export { runCli } from './cli.js';

/** Polls `check` every 10 ms until true; returns the elapsed milliseconds (or throws after `maxMs`). */
export async function waitFor(check: () => Promise<boolean>, maxMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > maxMs) throw new Error(`condition not met within ${maxMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/config/version.js';
import { collectLogLines } from './log-scan.js';

/** Runs the real `appliance` console against a test database; resolves with its exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot(), 'dist/appliance/src/cli/main.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', OFFICINE_ENV_FILE: '/dev/null', LOG_LEVEL: 'error', NODE_ENV: 'test', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      // The console's own log lines (JSON) join the run's app logs for the minimisation check.
      collectLogLines(`${stdout}\n${stderr}`);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

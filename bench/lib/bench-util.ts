import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Percentile of a sorted-or-not sample (nearest-rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Rounds to `d` decimals for printing. */
export const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Starts `node script args…` and resolves with the first stdout line matching
 * `READY <value>` (the child's way of saying it listens), plus the child to kill.
 */
export function spawnReady(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; value: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const m = line.match(/^READY (.+)$/);
      if (m) resolve({ child, value: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before READY`)));
  });
}

/** Prints the bench's figures as ONE JSON object on the last line. */
export function printResult(result: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(result) + '\n');
}

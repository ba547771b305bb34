import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { BackupError } from './backup.errors.js';

/** One stage of a process pipeline: a program, its arguments and extra environment. */
export interface Stage {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  /** Label for errors (e.g. "pg_dump"). */
  label: string;
}

/** A running pipeline: its last stage's stdout (when piped) and a promise of a clean exit of every stage. */
export interface RunningPipeline {
  stdout: Readable | null;
  stdin: Writable | null;
  done: Promise<void>;
  kill(): void;
  /** What a stage wrote on stderr (first 8 KiB), by label. */
  stderr(label: string): string;
}

function exitOf(child: ChildProcess, label: string, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new BackupError('tool_failed', `${label} n'a pas pu démarrer.`, `${label}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new BackupError(
            'tool_failed',
            `${label} a échoué (code ${code ?? signal}).`,
            `${label} exited ${code ?? signal}: ${stderr().trim().slice(-2000)}`,
          ),
        );
    });
  });
}

/**
 * Runs `a | b | c` with kernel pipes between the processes (each stage's stdout is
 * the next stage's stdin, duplicated into the child), so data between stages never
 * passes through Node nor touches the disk. `first` is the first stage's stdin
 * ('pipe' to feed it from Node, 'ignore', or a file descriptor); `last` is the last
 * stage's stdout ('pipe' to read it from Node, or a fd).
 */
export function runPipeline(stages: Stage[], first: 'pipe' | 'ignore' | number = 'ignore', last: 'pipe' | 'ignore' | number = 'pipe'): RunningPipeline {
  const children: ChildProcess[] = [];
  const exits: Promise<void>[] = [];
  const errs = new Map<string, () => string>();
  let downstream: Writable | 'pipe' | 'ignore' | number = last;
  // Spawn from the end so each stage can write straight into the next one's stdin.
  for (let i = stages.length - 1; i >= 0; i--) {
    const s = stages[i]!;
    const stdin = i === 0 ? first : 'pipe';
    const stdio: StdioOptions = [stdin, downstream as never, 'pipe'];
    const child: ChildProcess = spawn(s.cmd, s.args, { stdio, env: { ...process.env, ...s.env } });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (err.length < 8192) err += d.toString();
    });
    errs.set(s.label, () => err);
    exits.unshift(exitOf(child, s.label, () => err));
    if (typeof downstream === 'object') downstream.destroy(); // the child holds its own copy now
    children.unshift(child);
    downstream = i === 0 ? downstream : child.stdin!;
  }
  const head = children[0]!;
  const tail = children[children.length - 1]!;
  const kill = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  };
  // One failed stage stops the others, so nothing waits forever on a dead pipe.
  const done = Promise.all(exits.map((p) => p.catch((e: unknown) => { kill(); throw e; }))).then(() => undefined);
  done.catch(() => undefined);
  return { stdout: last === 'pipe' ? tail.stdout : null, stdin: first === 'pipe' ? head.stdin : null, done, kill, stderr: (label) => errs.get(label)?.() ?? '' };
}

/** Runs one program to completion and returns its stdout; rejects with its stderr on failure. */
export async function runTool(stage: Stage, input?: Buffer): Promise<Buffer> {
  const p = runPipeline([stage], input ? 'pipe' : 'ignore', 'pipe');
  const chunks: Buffer[] = [];
  p.stdout!.on('data', (c: Buffer) => chunks.push(c));
  if (input) p.stdin!.end(input);
  await p.done;
  return Buffer.concat(chunks);
}

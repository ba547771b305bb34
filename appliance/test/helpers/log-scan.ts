import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { DestinationStream } from 'pino';

/** Where the suite's app logs go (set by scripts/test.mjs); unset when tests run outside it. */
export function testLogDir(): string | undefined {
  return process.env.OFFICINE_TEST_LOG_DIR || undefined;
}

/** A pino destination appending this process's app log lines to the run's log directory (sync: nothing lost at exit). */
export function testLogDestination(): DestinationStream | undefined {
  const dir = testLogDir();
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `app-${process.pid}.log`);
  return { write: (line: string) => appendFileSync(file, line) };
}

/**
 * Adds the JSON log lines (pino's `{"level"…`) found in another process's output to the
 * run's app logs, so the minimisation scan reads them too (no-op outside the runner).
 */
export function collectLogLines(text: string): void {
  const logs = testLogDestination();
  if (!logs) return;
  const lines = text.split('\n').filter((l) => l.startsWith('{"level"'));
  if (lines.length) logs.write(lines.map((l) => l + '\n').join(''));
}

/** collectLogLines for a log file a process wrote (a missing file adds nothing). */
export function collectLogFile(path: string): void {
  if (existsSync(path)) collectLogLines(readFileSync(path, 'utf8'));
}

/**
 * collectLogLines for a running child's stream, line by line (always drains it); its
 * other lines (errors, stack traces) go to `others` when given.
 */
export function collectLogStream(stream: Readable, others?: NodeJS.WritableStream): void {
  let partial = '';
  const take = (lines: string[]) => {
    collectLogLines(lines.join('\n'));
    const rest = lines.filter((l) => l && !l.startsWith('{"level"'));
    if (others && rest.length) others.write(rest.map((l) => l + '\n').join(''));
  };
  stream.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    take(lines);
  });
  stream.on('end', () => take([partial]));
}

/** Records personal values the factories created (emails, names): the final scan looks for each of them in the logs. */
export function notePersonalValues(...values: string[]): void {
  const dir = testLogDir();
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `personal-values-${process.pid}.txt`), values.filter((v) => v.length >= 6).map((v) => v + '\n').join(''));
}

/** One plain personal value found in a log line. */
export interface LogFinding {
  file: string;
  line: number;
  kind: 'email' | 'personal_value';
  /** Masked, so the report does not repeat the value it complains about. */
  excerpt: string;
}

const EMAIL_RE = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;
const mask = (s: string) => (s.length <= 4 ? '****' : `${s.slice(0, 2)}…${s.slice(-2)} (${s.length} car.)`);

/**
 * Scans every app log file of a run (`*.log`) for plain email addresses and for
 * every personal value the factories recorded (`personal-values-*.txt`).
 */
export function scanLogDir(dir: string): { files: number; lines: number; values: number; findings: LogFinding[] } {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return { files: 0, lines: 0, values: 0, findings: [] };
  }
  const values = new Set<string>();
  for (const f of names.filter((n) => n.startsWith('personal-values-'))) {
    for (const v of readFileSync(join(dir, f), 'utf8').split('\n')) if (v.trim()) values.add(v.trim());
  }
  const findings: LogFinding[] = [];
  let lines = 0;
  const logs = names.filter((n) => n.endsWith('.log'));
  for (const f of logs) {
    const content = readFileSync(join(dir, f), 'utf8').split('\n');
    content.forEach((text, i) => {
      if (!text) return;
      lines++;
      const m = EMAIL_RE.exec(text);
      if (m) findings.push({ file: f, line: i + 1, kind: 'email', excerpt: mask(m[0]) });
      for (const v of values) if (text.includes(v)) findings.push({ file: f, line: i + 1, kind: 'personal_value', excerpt: mask(v) });
    });
  }
  return { files: logs.length, lines, values: values.size, findings };
}

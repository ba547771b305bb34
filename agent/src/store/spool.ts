import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeFileDurable } from './durable-fs.js';

/** One spooled message: compressed payload waiting for the server's acknowledgement. */
export interface SpoolEntry {
  seq: number;
  batchId: string;
  file: string;
}

const NAME_RE = /^([0-9]{12})\.([0-9a-f]{32})\.gz$/;
const DEAD_RE = /^([0-9a-f]{32})\.json$/;

/** Why a batch was parked: what the server answered, how often, and what the batch holds. */
export interface DeadLetterInfo {
  batchId: string;
  entity: string | null;
  rows: number;
  /** The server's code (batch_rejected, payload_invalid, http_500…). */
  code: string;
  status: number | null;
  /** The server's reason, as it gave it (French message or database reason). */
  reason: string;
  attempts: number;
  parkedAt: string;
}

/** A parked batch: its payload, still compressed, kept until an operator re-queues it. */
export interface DeadLetter {
  info: DeadLetterInfo;
  file: string;
  bytes: number;
}

/**
 * The on-disk spool: each message the agent must deliver, compressed, fsync'd
 * before the source cursor moves past it, and deleted only once the server has
 * acknowledged its batch id. A crash or an outage therefore loses nothing.
 */
export class Spool {
  private seq = 0;
  private readonly ids = new Set<string>();
  private readonly sizes = new Map<string, number>();
  private bytes = 0;

  /** Parked batches (the dead letters): `dead/<batchId>.gz` and its `dead/<batchId>.json`. */
  readonly deadDir: string;

  constructor(readonly dir: string) {
    this.deadDir = join(dir, 'dead');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const e of this.list()) {
      this.seq = Math.max(this.seq, e.seq);
      this.ids.add(e.batchId);
      this.track(e.batchId, statSync(e.file).size);
    }
  }

  private track(batchId: string, size: number): void {
    this.sizes.set(batchId, size);
    this.bytes += size;
  }

  /** Entries in the order they were spooled. */
  list(): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    for (const f of readdirSync(this.dir)) {
      const m = NAME_RE.exec(f);
      if (m) out.push({ seq: Number(m[1]), batchId: m[2]!, file: join(this.dir, f) });
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** Durably adds a compressed payload under its batch id (no-op if already spooled). */
  put(batchId: string, compressed: Buffer): void {
    if (this.ids.has(batchId)) return;
    this.seq++;
    writeFileDurable(join(this.dir, `${String(this.seq).padStart(12, '0')}.${batchId}.gz`), compressed);
    this.ids.add(batchId);
    this.track(batchId, compressed.length);
  }

  read(e: SpoolEntry): Buffer {
    return readFileSync(e.file);
  }

  /**
   * Removes an acknowledged entry. Not fsync'd on purpose: if a crash brings the file
   * back, it is re-sent and the server acknowledges its batch id without re-ingesting.
   */
  remove(e: SpoolEntry): void {
    unlinkSync(e.file);
    this.ids.delete(e.batchId);
    this.bytes -= this.sizes.get(e.batchId) ?? 0;
    this.sizes.delete(e.batchId);
  }

  /**
   * Parks an entry the server keeps refusing: the reason is written first, then the
   * payload is moved (rename) out of the queue into `dead/`, so later batches go on.
   * Nothing is dropped: it stays there, shown by `status`, until `requeue`.
   */
  park(e: SpoolEntry, info: DeadLetterInfo): void {
    mkdirSync(this.deadDir, { recursive: true, mode: 0o700 });
    writeFileDurable(join(this.deadDir, `${e.batchId}.json`), JSON.stringify(info, null, 2) + '\n');
    renameSync(e.file, join(this.deadDir, `${e.batchId}.gz`));
    fsyncDir(this.deadDir);
    fsyncDir(this.dir);
    this.ids.delete(e.batchId);
    this.bytes -= this.sizes.get(e.batchId) ?? 0;
    this.sizes.delete(e.batchId);
  }

  /** Parked batches, oldest first (a reason file without its payload is a park cut short: ignored). */
  deadLetters(): DeadLetter[] {
    if (!existsSync(this.deadDir)) return [];
    const out: DeadLetter[] = [];
    for (const f of readdirSync(this.deadDir)) {
      const m = DEAD_RE.exec(f);
      const gz = m ? join(this.deadDir, `${m[1]}.gz`) : undefined;
      if (!gz || !existsSync(gz)) continue;
      out.push({ info: JSON.parse(readFileSync(join(this.deadDir, f), 'utf8')) as DeadLetterInfo, file: gz, bytes: statSync(gz).size });
    }
    return out.sort((a, b) => a.info.parkedAt.localeCompare(b.info.parkedAt));
  }

  /** Puts parked batches (all, or the one named) back at the end of the queue; returns how many. */
  requeue(batchId?: string): number {
    let n = 0;
    for (const d of this.deadLetters()) {
      if (batchId && d.info.batchId !== batchId) continue;
      this.put(d.info.batchId, readFileSync(d.file)); // no-op if the same batch was re-extracted and queued meanwhile
      unlinkSync(d.file);
      unlinkSync(join(this.deadDir, `${d.info.batchId}.json`));
      n++;
    }
    if (n) fsyncDir(this.deadDir);
    return n;
  }

  /** Number of entries and bytes on disk (for `status` and the spool limit), kept without rescanning. */
  size(): { entries: number; bytes: number } {
    return { entries: this.ids.size, bytes: this.bytes };
  }
}

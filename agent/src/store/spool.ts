import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unlinkSync } from 'node:fs';
import { writeFileDurable } from './durable-fs.js';

/** One spooled message: compressed payload waiting for the server's acknowledgement. */
export interface SpoolEntry {
  seq: number;
  batchId: string;
  file: string;
}

const NAME_RE = /^([0-9]{12})\.([0-9a-f]{32})\.gz$/;

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

  constructor(readonly dir: string) {
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

  /** Number of entries and bytes on disk (for `status` and the spool limit), kept without rescanning. */
  size(): { entries: number; bytes: number } {
    return { entries: this.ids.size, bytes: this.bytes };
  }
}

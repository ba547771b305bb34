import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../logging/logger.js';

/** One audited operator action (who did what, why). */
export interface AuditEntry {
  action: string;
  /** Who acted: `user:<id>`, `cli:<unix user>`, `console:<unix user>`, `token:ops-admin`. */
  actor: string;
  target?: string;
  details?: Record<string, unknown>;
}

/**
 * The narrow door through which operations write to the audit trail. The real,
 * hash-chained audit writer (identity module) implements it once merged; until
 * then the log sink keeps a structured trace.
 */
export interface AuditSink {
  record(entry: AuditEntry): Promise<void>;
}

/**
 * Interim sink: appends one JSON line per action to a 0600 file under DATA_DIR (shared
 * by the web process, the CLI and the console) and logs it.
 */
export class JsonlAuditSink implements AuditSink {
  constructor(
    private readonly path: string,
    private readonly logger: Logger,
    private readonly clock: { now(): Date },
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    appendFileSync(this.path, JSON.stringify({ at: this.clock.now().toISOString(), ...entry }) + '\n', { mode: 0o600 });
    this.logger.info({ audit: entry }, `audit: ${entry.action}`);
  }
}

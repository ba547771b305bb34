/**
 * What every LGO connector offers: rows of one table, only the named columns,
 * ordered by (watermark, key) and strictly after a cursor. Connectors are
 * read-only by construction (read-only handles, read-only transactions).
 */
export type SourceValue = string | number | bigint | boolean | Date | null;
export type SourceRow = Record<string, SourceValue>;

/** Position after the last row read: watermark value and key of that row. */
export interface Cursor {
  wm: string | number;
  key: string | number;
}

export interface ReadRequest {
  table: string;
  columns: readonly string[];
  key: string;
  watermark: string;
  after: Cursor | undefined;
  pageSize: number;
}

export interface SourceConnector {
  /** Human description (no credentials), for summaries. */
  describe(table: string): string;
  /** Streams rows after the cursor, in (watermark, key) order. */
  rows(req: ReadRequest): AsyncIterable<SourceRow>;
  close(): Promise<void>;
}

/** Where the LGO data is, as the agent's configuration says. */
export type SourceConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'csv'; dir: string }
  | { kind: 'postgres'; url: string };

/** Converts a value read at the cursor position to something JSON can store. */
export function cursorValue(v: SourceValue | undefined): string | number {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' || typeof v === 'string') return v;
  return String(v);
}

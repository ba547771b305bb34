import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** A value COPY text format can carry: null becomes \N. */
export type CopyValue = string | number | boolean | null | undefined;

/** Escapes a text value for COPY … FROM STDIN (text format). */
function escapeCopy(v: string): string {
  return /[\\\t\n\r]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : v;
}

function* encode(rows: Iterable<CopyValue[]>, chunkRows: number): Generator<string> {
  let buf = '';
  let n = 0;
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      if (i) line += '\t';
      line += v === null || v === undefined ? '\\N' : typeof v === 'string' ? escapeCopy(v) : String(v);
    }
    buf += line + '\n';
    if (++n === chunkRows) {
      yield buf;
      buf = '';
      n = 0;
    }
  }
  if (buf) yield buf;
}

/**
 * Streams rows into `table(columns)` with COPY FROM STDIN on `client` (inside the
 * caller's transaction). Rows are encoded lazily, a chunk at a time, so a large
 * batch never builds one giant string. Returns the number of rows copied.
 */
export async function copyRows(client: pg.PoolClient, table: string, columns: string[], rows: Iterable<CopyValue[]>): Promise<number> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(encode(rows, 2000)), stream);
  return stream.rowCount;
}

import { join } from 'node:path';
import { cursorValue, type Cursor, type ReadRequest, type SourceConnector, type SourceRow } from './connector.js';
import { openUnderRoots } from './safe-path.js';

/** Orders watermark/key values: numerically when both look numeric, else as strings. */
export function compareValues(a: string | number, b: string | number): number {
  const na = typeof a === 'number' ? a : /^-?[0-9]+(\.[0-9]+)?$/.test(a) ? Number(a) : NaN;
  const nb = typeof b === 'number' ? b : /^-?[0-9]+(\.[0-9]+)?$/.test(b) ? Number(b) : NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * Streaming RFC 4180 parser (quotes, doubled quotes, newlines inside quotes, CRLF):
 * yields each record as an array of fields.
 */
export async function* parseCsv(chunks: AsyncIterable<string>, delimiter: string): AsyncIterable<string[]> {
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  let quoteSeen = false;
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (inQuotes) {
        if (c === '"') {
          inQuotes = false;
          quoteSeen = true;
        } else field += c;
        continue;
      }
      if (c === '"') {
        if (quoteSeen) field += '"';
        inQuotes = true;
        quoteSeen = false;
      } else if (c === delimiter) {
        record.push(field);
        field = '';
        quoteSeen = false;
      } else if (c === '\n') {
        record.push(field.endsWith('\r') && !quoteSeen ? field.slice(0, -1) : field);
        if (record.length > 1 || record[0] !== '') yield record;
        record = [];
        field = '';
        quoteSeen = false;
      } else {
        field += c;
        quoteSeen = false;
      }
    }
  }
  if (field !== '' || record.length > 0) {
    record.push(field.endsWith('\r') ? field.slice(0, -1) : field);
    yield record;
  }
}

/**
 * Reads CSV exports from one folder: `<table>.csv` with a header row. Files are
 * opened only under the configured roots (no symlink, no `..`). Rows after the
 * cursor are kept — only the mapped columns — then sorted by (watermark, key):
 * CSV exports carry no index, so a sync reads each file once.
 */
export class CsvConnector implements SourceConnector {
  constructor(
    private readonly dir: string,
    private readonly roots: readonly string[],
    private readonly delimiter: string,
    private readonly encoding: 'utf8' | 'latin1',
  ) {}

  describe(table: string): string {
    return `csv:${table}.csv`;
  }

  async *rows(req: ReadRequest): AsyncIterable<SourceRow> {
    const fh = await openUnderRoots(join(this.dir, `${req.table}.csv`), this.roots);
    const kept: SourceRow[] = [];
    try {
      const stream = fh.createReadStream({ encoding: this.encoding });
      let index: Map<string, number> | undefined;
      const wanted = [...new Set([...req.columns, req.key, req.watermark])];
      for await (const rec of parseCsv(stream, this.delimiter)) {
        if (!index) {
          index = new Map(rec.map((h, i) => [h.trim().replace(/^\uFEFF/, ''), i]));
          const missing = wanted.filter((c) => !index!.has(c));
          if (missing.length) throw new Error(`colonnes absentes de ${req.table}.csv : ${missing.join(', ')}`);
          continue;
        }
        const row: SourceRow = {};
        for (const c of wanted) row[c] = rec[index.get(c)!] ?? null;
        const wm = row[req.watermark];
        if (wm === null || wm === '') continue;
        if (req.after && !this.isAfter(row, req)) continue;
        kept.push(row);
      }
    } finally {
      await fh.close();
    }
    kept.sort((a, b) => compareValues(cursorValue(a[req.watermark]), cursorValue(b[req.watermark])) || compareValues(cursorValue(a[req.key]), cursorValue(b[req.key])));
    yield* kept;
  }

  private isAfter(row: SourceRow, req: ReadRequest): boolean {
    const after = req.after as Cursor;
    const c = compareValues(cursorValue(row[req.watermark]), after.wm);
    return c > 0 || (c === 0 && compareValues(cursorValue(row[req.key]), after.key) > 0);
  }

  async close(): Promise<void> {}
}

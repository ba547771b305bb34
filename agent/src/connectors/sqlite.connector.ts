import type { Database as SqliteDb } from 'better-sqlite3';
import type { Cursor, ReadRequest, SourceConnector, SourceRow } from './connector.js';
import { resolveUnderRoots } from './safe-path.js';

const q = (id: string) => `"${id}"`;

/**
 * Reads an LGO's SQLite file, opened read-only (and `query_only`), through keyset
 * pages so memory stays flat whatever the table size. The driver is loaded only
 * when a SQLite source is configured.
 */
export class SqliteConnector implements SourceConnector {
  private constructor(
    private readonly db: SqliteDb,
    private readonly path: string,
  ) {}

  static async open(path: string, roots: readonly string[]): Promise<SqliteConnector> {
    const real = resolveUnderRoots(path, roots);
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(real, { readonly: true, fileMustExist: true });
    db.pragma('query_only = ON');
    db.pragma('cache_size = -2000'); // 2 MB page cache: the agent streams, it does not need more
    return new SqliteConnector(db, real);
  }

  describe(table: string): string {
    return `sqlite:${table}`;
  }

  async *rows(req: ReadRequest): AsyncIterable<SourceRow> {
    const cols = [...new Set([...req.columns, req.key, req.watermark])].map(q).join(', ');
    const order = `ORDER BY ${q(req.watermark)}, ${q(req.key)} LIMIT ?`;
    const first = this.db.prepare(`SELECT ${cols} FROM ${q(req.table)} WHERE ${q(req.watermark)} IS NOT NULL ${order}`);
    const next = this.db.prepare(
      // Row-value comparison so SQLite seeks the (watermark, key) index instead of scanning.
      `SELECT ${cols} FROM ${q(req.table)} WHERE (${q(req.watermark)}, ${q(req.key)}) > (?, ?) ${order}`,
    );
    let after: Cursor | undefined = req.after;
    for (;;) {
      const page = (after ? next.all(after.wm, after.key, req.pageSize) : first.all(req.pageSize)) as SourceRow[];
      for (const r of page) yield r;
      if (page.length < req.pageSize) return;
      const last = page[page.length - 1]!;
      after = { wm: last[req.watermark] as string | number, key: last[req.key] as string | number };
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }

  toString(): string {
    return `sqlite:${this.path}`;
  }
}

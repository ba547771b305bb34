import type { Pool } from 'pg';
import type { Cursor, ReadRequest, SourceConnector, SourceRow } from './connector.js';

const q = (id: string) => `"${id}"`;

/**
 * Reads an LGO's PostgreSQL database in read-only transactions, through keyset
 * pages. The driver is loaded only when a PostgreSQL source is configured.
 */
export class PostgresConnector implements SourceConnector {
  private constructor(private readonly pool: Pool) {}

  static async open(url: string): Promise<PostgresConnector> {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: url,
      max: 1,
      application_name: 'officine-agent',
      options: '-c default_transaction_read_only=on -c statement_timeout=300000',
    });
    return new PostgresConnector(pool);
  }

  describe(table: string): string {
    return `postgres:${table}`;
  }

  async *rows(req: ReadRequest): AsyncIterable<SourceRow> {
    // The watermark also comes back as text: a JS Date would drop microseconds and re-read rows.
    const cols = [...new Set([...req.columns, req.key, req.watermark])].map(q).join(', ') + `, ${q(req.watermark)}::text AS "__wm"`;
    let after: Cursor | undefined = req.after;
    for (;;) {
      const res = after
        ? await this.pool.query(
            `SELECT ${cols} FROM ${q(req.table)} WHERE (${q(req.watermark)}, ${q(req.key)}) > ($1, $2) ORDER BY ${q(req.watermark)}, ${q(req.key)} LIMIT $3`,
            [after.wm, after.key, req.pageSize],
          )
        : await this.pool.query(
            `SELECT ${cols} FROM ${q(req.table)} WHERE ${q(req.watermark)} IS NOT NULL ORDER BY ${q(req.watermark)}, ${q(req.key)} LIMIT $1`,
            [req.pageSize],
          );
      const page = res.rows as SourceRow[];
      for (const r of page) {
        const { __wm: _wm, ...row } = r;
        yield row;
      }
      if (page.length < req.pageSize) return;
      const last = page[page.length - 1]!;
      after = { wm: last.__wm as string, key: last[req.key] as string | number };
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

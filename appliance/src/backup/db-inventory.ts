import type pg from 'pg';
import type { ForeignKeyInfo, TableCount } from './backup-manifest.js';

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** User tables (schema-qualified), excluding the system schemas. */
export async function listTables(c: pg.ClientBase): Promise<string[]> {
  const r = await c.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY 1, 2`,
  );
  return r.rows.map((x) => `${x.schema}.${x.name}`);
}

/** `schema.table` → `"schema"."table"`. */
export function qualified(name: string): string {
  const i = name.indexOf('.');
  return `${quoteIdent(name.slice(0, i))}.${quoteIdent(name.slice(i + 1))}`;
}

/** Exact row count of every user table (in the caller's transaction/snapshot). */
export async function countRows(c: pg.ClientBase): Promise<TableCount[]> {
  const out: TableCount[] = [];
  for (const name of await listTables(c)) {
    const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ONLY ${qualified(name)}`);
    out.push({ name, rows: Number(r.rows[0]!.n) });
  }
  return out;
}

/** Every foreign key of the user schemas. */
export async function listForeignKeys(c: pg.ClientBase): Promise<ForeignKeyInfo[]> {
  const r = await c.query<ForeignKeyInfo>(
    `SELECT n.nspname || '.' || cl.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
       FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
      WHERE con.contype = 'f' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1, 2`,
  );
  return r.rows;
}

/** `table.name` of the foreign keys PostgreSQL has validated against the data. */
export async function validatedForeignKeys(c: pg.ClientBase): Promise<Set<string>> {
  const r = await c.query<{ key: string }>(
    `SELECT n.nspname || '.' || cl.relname || '.' || con.conname AS key
       FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
      WHERE con.contype = 'f' AND con.convalidated AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  );
  return new Set(r.rows.map((x) => x.key));
}

/**
 * Re-checks one foreign key against the data (rows whose non-null key has no
 * parent), independently of whether PostgreSQL marks the constraint validated.
 */
export async function foreignKeyViolations(c: pg.ClientBase, table: string, name: string): Promise<number> {
  const r = await c.query<{ child: string; parent: string; ck: string[]; pk: string[] }>(
    `SELECT con.conrelid::regclass::text AS child, con.confrelid::regclass::text AS parent,
            array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS ck,
            array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS pk
       FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
      WHERE con.contype = 'f' AND n.nspname || '.' || cl.relname = $1 AND con.conname = $2`,
    [table, name],
  );
  const fk = r.rows[0];
  if (!fk) return -1;
  const notNull = fk.ck.map((col) => `c.${quoteIdent(col)} IS NOT NULL`).join(' AND ');
  const join = fk.ck.map((col, i) => `p.${quoteIdent(fk.pk[i]!)} = c.${quoteIdent(col)}`).join(' AND ');
  const v = await c.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${fk.child} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE ${join})`,
  );
  return Number(v.rows[0]!.n);
}

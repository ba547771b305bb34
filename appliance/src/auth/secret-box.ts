import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import type { SecretStore } from '../config/secrets.js';
import { writeSecretFile } from '../config/secrets.js';

/** Name of the data key in the secrets directory (AES-256-GCM; TOTP seeds, connector credentials). */
export const DATA_KEY_SECRET = 'data-key';
/** Prefix of retired data keys kept after a rotation (`data-key.retired.<keyId>`), so older backups still open. */
export const RETIRED_DATA_KEY_PREFIX = `${DATA_KEY_SECRET}.retired.`;

/** Short public id of a key (sha256 prefix): written in each sealed value so the right key opens it. */
export function dataKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

const decodeKey = (b: Buffer) => Buffer.from(b.toString('utf8').trim(), 'base64');

/**
 * Encrypts small secrets stored in the database (TOTP seeds, connector credentials)
 * with the data key: AES-256-GCM, random 96-bit nonce, the column name as associated
 * data so a value cannot be moved to another column. Format
 * `v2.<keyId>.<nonce>.<ciphertext>.<tag>` (base64url); `v1.` values (no key id,
 * before rotation existed) still open. Retired keys open old values until rotation
 * has re-encrypted them.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(
    private readonly key: Buffer,
    retired: Buffer[] = [],
  ) {
    if (key.length !== 32) throw new Error('data key must be 256 bits');
    this.currentKeyId = dataKeyId(key);
    this.keys.set(this.currentKeyId, key);
    for (const k of retired) if (k.length === 32) this.keys.set(dataKeyId(k), k);
  }

  /** The box keyed with the appliance data key (generated on first use, 0600), plus its retired keys. */
  static fromSecrets(secrets: SecretStore): SecretBox {
    const current = decodeKey(secrets.get(DATA_KEY_SECRET, { generate: 32 }));
    const retired = listRetiredKeys(secrets).map((name) => decodeKey(secrets.get(name)));
    return new SecretBox(current, retired);
  }

  seal(plaintext: string, aad: string): string {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return ['v2', this.currentKeyId, ...[nonce, ct, c.getAuthTag()].map((p) => p.toString('base64url'))].join('.');
  }

  open(sealed: string, aad: string): string {
    const parts = sealed.split('.');
    let keys: Buffer[];
    let rest: string[];
    if (parts[0] === 'v2' && parts.length === 5) {
      const k = this.keys.get(parts[1]!);
      if (!k) throw new Error(`sealed with unknown data key ${parts[1]}`);
      keys = [k];
      rest = parts.slice(2);
    } else if (parts[0] === 'v1' && parts.length === 4) {
      keys = [...this.keys.values()];
      rest = parts.slice(1);
    } else throw new Error('unknown sealed format');
    const [nonce, ct, tag] = rest as [string, string, string];
    let lastErr: unknown;
    for (const k of keys) {
      try {
        const d = createDecipheriv('aes-256-gcm', k, Buffer.from(nonce, 'base64url'));
        d.setAAD(Buffer.from(aad));
        d.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error('cannot open sealed value');
  }

  /** Whether a sealed value is already under the current key (rotation skips it). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`v2.${this.currentKeyId}.`);
  }
}

/** Names of the retired data keys in the secrets directory. */
export function listRetiredKeys(secrets: SecretStore): string[] {
  try {
    return readdirSync(secrets.dir).filter((f) => f.startsWith(RETIRED_DATA_KEY_PREFIX)).sort();
  } catch {
    return [];
  }
}

/** A database column holding SecretBox values: what rotation walks. */
export interface SealedColumn {
  table: string;
  column: string;
  /** Primary key columns identifying a row. */
  key: string[];
  /** Associated data the values were sealed with (`table.column` by convention). */
  aad: string;
}

const sealedColumns: SealedColumn[] = [
  { table: 'users', column: 'totp_secret_enc', key: ['id'], aad: 'users.totp_secret' },
  { table: 'users', column: 'totp_pending_secret_enc', key: ['id'], aad: 'users.totp_secret' },
];

/**
 * Every sealed column of the schema. A module storing a secret (e.g. the agent's
 * connector credentials) registers its column here at import time, and key rotation
 * re-encrypts it with the rest.
 */
export function registerSealedColumn(c: SealedColumn): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(c.table) || !/^[a-z_][a-z0-9_]*$/.test(c.column) || c.key.some((k) => !/^[a-z_][a-z0-9_]*$/.test(k))) {
    throw new Error(`invalid sealed column ${c.table}.${c.column}`);
  }
  if (!sealedColumns.some((x) => x.table === c.table && x.column === c.column)) sealedColumns.push(c);
}

/** The registered sealed columns (read-only view). */
export function registeredSealedColumns(): readonly SealedColumn[] {
  return sealedColumns;
}

/** Re-encrypts every registered sealed value not yet under the box's current key; returns counts per column. */
export async function reencryptSealedColumns(db: DataSource, box: SecretBox, batch = 500): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of sealedColumns) {
    const keySel = c.key.map((k, i) => `${k}::text AS k${i}`).join(', ');
    const keyWhere = c.key.map((k, i) => `${k}::text = $${i + 1}`).join(' AND ');
    let n = 0;
    for (;;) {
      const rows = (await db.query(
        `SELECT ${keySel}, ${c.column} AS v FROM ${c.table} WHERE ${c.column} IS NOT NULL AND ${c.column} NOT LIKE $1 LIMIT ${batch}`,
        [`v2.${box.currentKeyId}.%`],
      )) as Record<string, string>[];
      if (rows.length === 0) break;
      await db.transaction(async (m) => {
        for (const r of rows) {
          const keys = c.key.map((_, i) => r[`k${i}`]!);
          const resealed = box.seal(box.open(r.v!, c.aad), c.aad);
          // Only if unchanged since read: a concurrent writer's new value wins.
          await m.query(`UPDATE ${c.table} SET ${c.column} = $${keys.length + 1} WHERE ${keyWhere} AND ${c.column} = $${keys.length + 2}`, [...keys, resealed, r.v]);
          n++;
        }
      });
    }
    out[`${c.table}.${c.column}`] = n;
  }
  return out;
}

/**
 * Data key rotation: a new key becomes current, the old one is kept as
 * `data-key.retired.<id>`, then every sealed column is re-encrypted under the new
 * key. `forgetRetired` deletes retired keys once nothing in the database needs them
 * (older backups then need the key printed in the rotation report's id to open
 * their sealed columns: keep a copy in the vault before forgetting).
 */
export async function rotateDataKey(db: DataSource, secrets: SecretStore, opts: { forgetRetired?: boolean } = {}): Promise<{ oldKeyId: string; newKeyId: string; reencrypted: Record<string, number>; forgotten: string[] }> {
  const old = SecretBox.fromSecrets(secrets);
  const oldPath = secrets.path(DATA_KEY_SECRET);
  renameSync(oldPath, secrets.path(`${RETIRED_DATA_KEY_PREFIX}${old.currentKeyId}`));
  writeSecretFile(oldPath, randomBytes(32).toString('base64') + '\n');
  const box = SecretBox.fromSecrets(secrets);
  const reencrypted = await reencryptSealedColumns(db, box);
  const forgotten: string[] = [];
  if (opts.forgetRetired) {
    for (const name of listRetiredKeys(secrets)) {
      rmSync(secrets.path(name));
      forgotten.push(name.slice(RETIRED_DATA_KEY_PREFIX.length));
    }
  }
  return { oldKeyId: old.currentKeyId, newKeyId: box.currentKeyId, reencrypted, forgotten };
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ENTITY_ORDER, fieldsOf, isEntity, type EntityName } from './canonical-model.js';
import { deniedWord } from './name-denylist.js';

/**
 * An LGO profile: data only (JSON), mapping the LGO's tables and columns onto the
 * canonical model. Loading is where the allowlist bites: an entity or field outside
 * the compiled model, a name pointing to patient data, an identifier that could
 * escape (path or SQL), or a missing required field refuses the whole profile.
 */
export interface ColumnMapping {
  column: string;
  /** How money or rates are stored: euros (default for money) or cents; percent (default) or fraction for rates. */
  unit?: 'euros' | 'cents' | 'percent' | 'fraction' | undefined;
}

export interface EntityMapping {
  entity: EntityName;
  /** Table name (SQL) or file stem (`<table>.csv` in the export folder). */
  table: string;
  /** Unique, non-null key column: tie-breaker of the watermark order. */
  key: string;
  /** Non-null column that grows when a row is created or changed. */
  watermark: string;
  fields: Record<string, ColumnMapping>;
}

export interface Profile {
  name: string;
  description: string;
  csv: { delimiter: string; encoding: 'utf8' | 'latin1' };
  entities: EntityMapping[];
}

/** Stable codes for refused profiles. */
export type ProfileErrorCode =
  | 'profile_invalid'
  | 'profile_entity_unknown'
  | 'profile_field_unknown'
  | 'profile_name_denied'
  | 'profile_identifier_invalid'
  | 'profile_required_missing'
  | 'profile_not_found';

/** A refused profile: a stable code and a French message for the pharmacist or installer. */
export class ProfileError extends Error {
  constructor(
    readonly code: ProfileErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProfileError';
  }
}

/** Identifiers: also file stems, so no dot, slash or `..` can appear. */
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const columnSchema = z.union([
  z.string(),
  z.strictObject({ column: z.string(), unit: z.enum(['euros', 'cents', 'percent', 'fraction']).optional() }),
]);
const profileSchema = z.strictObject({
  profile: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/),
  description: z.string().max(500).default(''),
  csv: z.strictObject({ delimiter: z.enum([';', ',', '\t', '|']).default(';'), encoding: z.enum(['utf8', 'latin1']).default('utf8') }).default({ delimiter: ';', encoding: 'utf8' }),
  entities: z.record(
    z.string(),
    z.strictObject({ table: z.string(), key: z.string(), watermark: z.string(), fields: z.record(z.string(), columnSchema) }),
  ),
});

function checkIdentifier(what: string, name: string): void {
  const word = deniedWord(name);
  if (word) {
    throw new ProfileError('profile_name_denied', `${what} « ${name} » refusé : le nom évoque des données patient, prescripteur ou assurance (« ${word} »).`);
  }
  if (!IDENT_RE.test(name)) {
    throw new ProfileError('profile_identifier_invalid', `${what} « ${name} » : nom invalide (lettres, chiffres et _ seulement, sans chemin).`);
  }
}

/** Validates a parsed profile object against the compiled model; throws ProfileError. */
export function parseProfile(input: unknown): Profile {
  const parsed = profileSchema.safeParse(input);
  if (!parsed.success) {
    throw new ProfileError('profile_invalid', `Profil invalide : ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const p = parsed.data;
  const entities: EntityMapping[] = [];
  for (const [entity, e] of Object.entries(p.entities)) {
    if (!isEntity(entity)) throw new ProfileError('profile_entity_unknown', `Entité « ${entity} » hors du modèle commercial autorisé.`);
    checkIdentifier(`Table de ${entity}`, e.table);
    checkIdentifier(`Clé de ${entity}`, e.key);
    checkIdentifier(`Filigrane de ${entity}`, e.watermark);
    const allowed = fieldsOf(entity);
    const fields: Record<string, ColumnMapping> = {};
    for (const [field, col] of Object.entries(e.fields)) {
      if (!Object.prototype.hasOwnProperty.call(allowed, field)) {
        throw new ProfileError('profile_field_unknown', `Champ « ${entity}.${field} » hors du modèle commercial autorisé.`);
      }
      const m: ColumnMapping = typeof col === 'string' ? { column: col } : { column: col.column, unit: col.unit };
      checkIdentifier(`Colonne de ${entity}.${field}`, m.column);
      fields[field] = m;
    }
    for (const [field, spec] of Object.entries(allowed)) {
      if (spec.required && !fields[field]) throw new ProfileError('profile_required_missing', `Champ obligatoire « ${entity}.${field} » non renseigné.`);
    }
    entities.push({ entity, table: e.table, key: e.key, watermark: e.watermark, fields });
  }
  entities.sort((a, b) => ENTITY_ORDER.indexOf(a.entity) - ENTITY_ORDER.indexOf(b.entity));
  return { name: p.profile, description: p.description, csv: p.csv, entities };
}

/** Directory of the profiles shipped with the agent (agent/profiles), from source or dist alike. */
export function shippedProfilesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'agent', 'profiles'))) return join(dir, 'agent', 'profiles');
    dir = dirname(dir);
  }
  throw new ProfileError('profile_not_found', 'Répertoire des profils LGO introuvable.');
}

/** Loads a profile by shipped name (`reference`) or from a JSON file path. */
export function loadProfile(nameOrPath: string): Profile {
  const path = /^[a-z0-9][a-z0-9_-]*$/.test(nameOrPath) ? join(shippedProfilesDir(), `${nameOrPath}.json`) : nameOrPath;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ProfileError('profile_not_found', `Profil LGO introuvable : ${nameOrPath}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProfileError('profile_invalid', `Profil LGO illisible (JSON invalide) : ${nameOrPath}`);
  }
  return parseProfile(json);
}

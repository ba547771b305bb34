import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../config/version.js';
import { AppError } from '../http/errors.js';

/** Length bounds (characters after NFKC normalisation): NIST 800-63B, no composition rules. */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

let common: Set<string> | undefined;

/** The shipped list of common passwords (appliance/data/common-passwords.txt), loaded once. */
export function commonPasswords(): Set<string> {
  if (!common) {
    const text = readFileSync(join(projectRoot(), 'appliance', 'data', 'common-passwords.txt'), 'utf8');
    common = new Set(text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  }
  return common;
}

/** Normalises a password the same way at hashing and at checking (NFKC: one Unicode form per visible text). */
export function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Refuses a new password that is too short, too long, or on the common list (422 with a French reason). */
export function assertAcceptablePassword(password: string): void {
  const p = normalisePassword(password);
  const len = [...p].length;
  const refuse = (code: string, msg: string) => {
    throw new AppError(422, code, msg, code);
  };
  if (len < PASSWORD_MIN) refuse('password_too_short', `Le mot de passe doit compter au moins ${PASSWORD_MIN} caractères.`);
  if (len > PASSWORD_MAX) refuse('password_too_long', `Le mot de passe ne peut dépasser ${PASSWORD_MAX} caractères.`);
  if (commonPasswords().has(p.toLowerCase())) refuse('password_common', 'Ce mot de passe est trop courant : choisissez-en un autre (une phrase de plusieurs mots convient).');
}

/**
 * Product identifiers as pharmacies use them: CIP13 (`34009…`), ACL13 (`3401…`,
 * parapharmacy and devices) and any other EAN13, all protected by the EAN-13 check
 * digit; and the legacy 7-digit CIP with its own modulo-11 key. Validated here in
 * code and again by the `ean13_valid` CHECK in the database.
 */
export type ProductCodeKind = 'cip13' | 'acl13' | 'ean13';

/** The EAN-13 check digit for the first 12 digits. */
export function ean13CheckDigit(first12: string): number {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (first12.charCodeAt(i) - 48) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10;
}

/** True for 13 digits whose last one is the right EAN-13 check digit. */
export function isValidEan13(code: string): boolean {
  return /^[0-9]{13}$/.test(code) && ean13CheckDigit(code) === code.charCodeAt(12) - 48;
}

/** The kind of a valid 13-digit product code, or null when its check digit is wrong. */
export function productCodeKind(code: string): ProductCodeKind | null {
  if (!isValidEan13(code)) return null;
  if (code.startsWith('34009')) return 'cip13';
  if (code.startsWith('3401')) return 'acl13';
  return 'ean13';
}

/** The CIP7 key: Σ digit[i] × (i + 2) over the first six digits, modulo 11 (10 → 0). */
export function cip7Key(first6: string): number {
  let sum = 0;
  for (let i = 0; i < 6; i++) sum += (first6.charCodeAt(i) - 48) * (i + 2);
  return (sum % 11) % 10;
}

/** True for 7 digits whose last one is the CIP7 key. */
export function isValidCip7(cip7: string): boolean {
  return /^[0-9]{7}$/.test(cip7) && cip7Key(cip7) === cip7.charCodeAt(6) - 48;
}

/** The CIP13 of a CIP7: `34009` + CIP7 + EAN-13 check digit. */
export function cip13FromCip7(cip7: string): string {
  const first12 = `34009${cip7}`;
  return first12 + String(ean13CheckDigit(first12));
}

/** The CIP7 embedded in a CIP13 (null for ACL13/EAN13). */
export function cip7FromCip13(cip13: string): string | null {
  return cip13.startsWith('34009') ? cip13.slice(5, 12) : null;
}

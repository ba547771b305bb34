/**
 * Last line of defence: every value of a record is scanned before it can be sent.
 * A line carrying what looks like a NIR (social security number, key checked), an
 * email address, a phone number, or — in free text — a date (a possible date of
 * birth) is withheld whole: counted by reason, never sent. False positives cost a
 * withheld commercial line, shown to the pharmacist; false negatives would cost a
 * patient's privacy, so the patterns lean wide.
 */
export type WithheldReason = 'nir' | 'email' | 'phone' | 'date_of_birth' | 'invalid_value';

const NIR_RE = /(?<![0-9A-Za-z])([1-478])[ .]?([0-9]{2})[ .]?(0[1-9]|1[0-2]|[2-9][0-9])[ .]?([0-9]{2}|2[AaBb])[ .]?([0-9]{3})[ .]?([0-9]{3})[ .]?([0-9]{2})(?![0-9])/g;
const EMAIL_RE = /[A-Za-z0-9._%+-]+\s*(?:@|\(at\)|\[at\])\s*[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
const PHONE_RE = /(?<![0-9])(?:(?:\+|00)\s?33\s?\(?0?\)?\s?[1-9]|0[1-9])(?:[\s.-]?[0-9]{2}){4}(?![0-9])/;
const DATE_RES = [
  /(?<![0-9])(0?[1-9]|[12][0-9]|3[01])[/.-](0?[1-9]|1[0-2])[/.-]((?:19|20)?[0-9]{2})(?![0-9])/,
  /(?<![0-9])(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(?![0-9])/,
  /(?<![0-9])(0?[1-9]|[12][0-9]|3[01])\s+(janv|f[eé]v|mars|avr|mai|juin|juil|ao[uû]|sept|oct|nov|d[eé]c)[a-zéû]*\.?\s+(19|20)[0-9]{2}/i,
];

/** Checks a NIR's two-digit key: 97 − (13-digit number mod 97), with Corsica's 2A/2B. */
export function nirKeyValid(sex: string, yy: string, mm: string, dept: string, commune: string, order: string, key: string): boolean {
  const d = dept.toUpperCase() === '2A' ? '19' : dept.toUpperCase() === '2B' ? '18' : dept;
  const n = BigInt(sex + yy + mm + d + commune + order);
  return 97n - (n % 97n) === BigInt(key);
}

/** True when the string contains a NIR whose key checks out. */
export function containsNir(s: string): boolean {
  for (const m of s.matchAll(NIR_RE)) {
    if (nirKeyValid(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7]!)) return true;
  }
  return false;
}

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/**
 * The reason a single value must be withheld, or undefined when it may be sent.
 * Cheap pre-checks (digit count, `@`/`at`) skip patterns that cannot match.
 */
export function scanValue(value: string, freeText: boolean): WithheldReason | undefined {
  if (value.length < 6) return undefined;
  const digits = countDigits(value);
  if (digits >= 13 && containsNir(value)) return 'nir';
  if ((value.includes('@') || /at[\])]/i.test(value)) && EMAIL_RE.test(value)) return 'email';
  if (digits >= 9 && PHONE_RE.test(value)) return 'phone';
  if (freeText && digits >= 4 && DATE_RES.some((re) => re.test(value))) return 'date_of_birth';
  return undefined;
}

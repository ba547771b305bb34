import { fieldsOf, type EntityName, type FieldType } from './canonical-model.js';
import type { ColumnMapping } from './profile.js';
import { scanValue, type WithheldReason } from './value-scanner.js';

/** A value as it travels: canonical types only. */
export type WireValue = string | number | boolean | null;
export type WireRecord = Record<string, WireValue>;

/** Outcome of turning one source row into a canonical record. */
export type BuildResult = { ok: true; record: WireRecord } | { ok: false; reason: WithheldReason; field: string };

const ID_RE = /^[A-Za-z0-9_.:/-]{1,64}$/;
const MAX_TEXT = 200;
const MAX_INT = 1_000_000_000;
const MAX_CENTS = 100_000_000_000;

/** EAN-13 / EAN-8 check digit (GS1 mod 10). */
export function eanCheckValid(code: string): boolean {
  const digits = code.split('').map(Number);
  const check = digits.pop()!;
  let sum = 0;
  digits.reverse().forEach((d, i) => (sum += d * (i % 2 === 0 ? 3 : 1)));
  return (10 - (sum % 10)) % 10 === check;
}

/** Normalises a product code: CIP13/ACL13/EAN13 or EAN8 with a valid check digit; a CIP7 becomes its CIP13. */
export function normaliseProductCode(raw: string): string | undefined {
  const s = raw.replace(/[\s-]/g, '');
  if (/^[0-9]{13}$/.test(s) || /^[0-9]{8}$/.test(s)) return eanCheckValid(s) ? s : undefined;
  if (/^[0-9]{7}$/.test(s)) {
    const base = '34009' + s;
    for (let c = 0; c <= 9; c++) if (eanCheckValid(base + c)) return base + c;
  }
  return undefined;
}

/** Parses a decimal (number or "12,34"/"12.34") into integer hundredths, exactly. */
function toHundredths(v: unknown): number | undefined {
  let s: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    const h = v * 100;
    const r = Math.round(h);
    if (Math.abs(h - r) < 1e-6 && Math.abs(r) < 1e15) return r; // exact to the cent (float noise only)
    s = v.toFixed(6);
  } else if (typeof v === 'string') s = v.trim().replace(',', '.');
  else if (typeof v === 'bigint') s = v.toString();
  else return undefined;
  const m = /^(-?)([0-9]{1,15})(?:\.([0-9]{0,8}))?$/.exec(s);
  if (!m) return undefined;
  const frac = (m[3] ?? '').padEnd(3, '0');
  let n = Number(m[2]) * 100 + Number(frac.slice(0, 2));
  if (Number(frac[2]) >= 5) n += 1;
  return m[1] === '-' ? -n : n;
}

function toInteger(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\s*-?[0-9]{1,12}\s*$/.test(v)) return Number(v);
  return undefined;
}

const offsetCache = new Map<string, number>();
const PARIS = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** Offset of Europe/Paris from UTC (ms) at a UTC instant. */
function parisOffset(utcMs: number): number {
  const parts = Object.fromEntries(PARIS.formatToParts(new Date(utcMs)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Converts a Europe/Paris wall-clock time to UTC (LGOs store local time). */
function parisToUtc(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const naive = Date.UTC(y, mo - 1, d, h, mi, s);
  const k = `${y}-${mo}-${d}-${h}`;
  let off = offsetCache.get(k);
  if (off === undefined) {
    off = parisOffset(naive - parisOffset(naive));
    if (offsetCache.size > 100_000) offsetCache.clear();
    offsetCache.set(k, off);
  }
  return naive - off;
}

const LOCAL_TS = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?)?$/;
const FR_TS = /^([0-9]{2})\/([0-9]{2})\/([0-9]{4})(?: ([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?$/;

let lastTsIn: unknown;
let lastTsOut: string | undefined;

/** Timestamps repeat from one line to the next (lines of one ticket): remember the last one. */
function toTimestamp(v: unknown): string | undefined {
  if (typeof v === 'string' && v === lastTsIn) return lastTsOut;
  const out = parseTimestamp(v);
  lastTsIn = v;
  lastTsOut = out;
  return out;
}

function parseTimestamp(v: unknown): string | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/[zZ]$|[+-][0-9]{2}:?[0-9]{2}$/.test(s)) {
    const t = Date.parse(s);
    return Number.isNaN(t) ? undefined : new Date(t).toISOString();
  }
  let m = LOCAL_TS.exec(s);
  let y: number, mo: number, d: number;
  if (m) [y, mo, d] = [+m[1]!, +m[2]!, +m[3]!];
  else {
    m = FR_TS.exec(s);
    if (!m) return undefined;
    [d, mo, y] = [+m[1]!, +m[2]!, +m[3]!];
  }
  const [h, mi, sec] = [+(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return undefined;
  return new Date(parisToUtc(y, mo, d, h, mi, sec)).toISOString();
}

function toDate(v: unknown): string | undefined {
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  let m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})/.exec(s);
  if (m) return `${m[1]}-${m[2]}-${m[3]}`;
  m = /^([0-9]{2})\/([0-9]{2})\/([0-9]{4})$/.exec(s);
  return m ? `${m[3]}-${m[2]}-${m[1]}` : undefined;
}

/** Coerces one source value to a canonical type; undefined means "not a valid value". */
export function coerce(type: FieldType, v: unknown, unit: ColumnMapping['unit']): WireValue | undefined {
  switch (type) {
    case 'id': {
      const s = typeof v === 'number' || typeof v === 'bigint' ? String(v) : typeof v === 'string' ? v.trim() : undefined;
      return s !== undefined && ID_RE.test(s) ? s : undefined;
    }
    case 'code':
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? normaliseProductCode(String(v)) : undefined;
    case 'text': {
      if (typeof v !== 'string' && typeof v !== 'number') return undefined;
      const s = String(v).replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
      return s.length <= MAX_TEXT ? s : undefined;
    }
    case 'int': {
      const n = toInteger(v);
      return n !== undefined && Math.abs(n) <= MAX_INT ? n : undefined;
    }
    case 'cents': {
      const n = unit === 'cents' ? toInteger(v) : toHundredths(v);
      return n !== undefined && Math.abs(n) <= MAX_CENTS ? n : undefined;
    }
    case 'rate': {
      let n = toHundredths(v);
      if (n === undefined) return undefined;
      if (unit === 'fraction') n = Math.round(n * 100);
      return n >= 0 && n <= 10_000 ? n / 100 : undefined;
    }
    case 'bool': {
      if (typeof v === 'boolean') return v;
      const s = String(v).trim().toLowerCase();
      if (['1', 'true', 't', 'o', 'oui', 'y', 'yes'].includes(s)) return true;
      if (['0', 'false', 'f', 'n', 'non', 'no'].includes(s)) return false;
      return undefined;
    }
    case 'timestamp':
      return toTimestamp(v);
    case 'date':
      return toDate(v);
  }
}

interface CompiledField {
  field: string;
  type: FieldType;
  required: boolean;
  column: string;
  unit: ColumnMapping['unit'];
  /** Only ids and free text can carry arbitrary characters: the other types are format-checked. */
  scan: boolean;
}
const compiled = new WeakMap<object, CompiledField[]>();

/** The model's fields of an entity joined with a profile mapping, computed once per mapping. */
function compile(entity: EntityName, mapping: Readonly<Record<string, ColumnMapping>>): CompiledField[] {
  let c = compiled.get(mapping);
  if (!c) {
    c = [];
    for (const [field, spec] of Object.entries(fieldsOf(entity))) {
      const m = mapping[field];
      if (m) c.push({ field, type: spec.type, required: spec.required ?? false, column: m.column, unit: m.unit, scan: spec.type === 'id' || spec.type === 'text' });
    }
    compiled.set(mapping, c);
  }
  return c;
}

/**
 * Builds the canonical record of one source row by walking the compiled model's
 * fields (never the row's or the profile's keys), coercing each value, then
 * scanning every id and free-text value. Any failure withholds the whole line.
 */
export function buildRecord(entity: EntityName, mapping: Readonly<Record<string, ColumnMapping>>, row: Readonly<Record<string, unknown>>): BuildResult {
  const record: WireRecord = {};
  for (const f of compile(entity, mapping)) {
    const raw = row[f.column];
    if (raw === null || raw === undefined || raw === '') {
      if (f.required) return { ok: false, reason: 'invalid_value', field: f.field };
      record[f.field] = null;
      continue;
    }
    const v = coerce(f.type, raw, f.unit);
    if (v === undefined) return { ok: false, reason: 'invalid_value', field: f.field };
    if (f.scan && typeof v === 'string') {
      const reason = scanValue(v, f.type === 'text');
      if (reason) return { ok: false, reason, field: f.field };
    }
    record[f.field] = v;
  }
  return { ok: true, record };
}

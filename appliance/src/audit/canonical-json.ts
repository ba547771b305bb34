/**
 * One canonical JSON for everything that is hashed or signed (the audit chain, the
 * invoice archive chain, signed backup manifests and drill reports): object keys sorted
 * at every depth, undefined members left out, so the same value always gives the same
 * bytes whatever order jsonb or a builder put the keys in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

import { readFileSync } from 'node:fs';

/**
 * Parses a systemd-style env file (KEY=VALUE, `#` comments, optional quotes).
 * Kept deliberately small: the same file is read by systemd's EnvironmentFile=,
 * so we accept only what systemd accepts.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1);
    }
    out[key] = value;
  }
  return out;
}

/** Reads an env file; a missing optional file yields an empty record. */
export function readEnvFile(path: string, required: boolean): Record<string, string> {
  try {
    return parseEnvFile(readFileSync(path, 'utf8'));
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// The `*.api.ts` modules hold the JSON shapes the server and the web UI share. The web
// type-check (tsconfig.web.json) reads them and esbuild drops them, so they must stay
// types only: no runtime code, no import that is not `import type` of another shared module.
const here = dirname(fileURLToPath(import.meta.url));
const srcRoot = join(here, '..', '..', '..', '..', 'appliance', 'src');
const distRoot = join(here, '..', '..', 'src');

function apiModules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? apiModules(join(dir, e.name)) : e.name.endsWith('.api.ts') ? [join(dir, e.name)] : [],
  );
}

t.test('shared API shape modules are types only', async (t) => {
  const files = apiModules(srcRoot).map((f) => relative(srcRoot, f));
  t.ok(['analytics/analytics.api.ts', 'audit/audit.api.ts', 'auth/auth.api.ts', 'http/wire.api.ts'].every((f) => files.includes(f)), `found: ${files.join(', ')}`);
  for (const f of files) {
    const source = readFileSync(join(srcRoot, f), 'utf8');
    const imports = source.split('\n').filter((l) => /^\s*(import|export)\b.*\bfrom\b/.test(l));
    for (const line of imports) t.match(line, /^(import|export) type \{[^}]*\} from '\.\.?\/[^']*\.api\.js';$/, `${f}: ${line}`);
    const emitted = readFileSync(join(distRoot, f.replace(/\.ts$/, '.js')), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\/\/.*$/gm, '')
      .trim();
    t.equal(emitted, 'export {};', `${f} compiles to no runtime code`);
  }
});

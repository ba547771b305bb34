// Builds the browser UI to dist/web: bundled, minified, content-hashed asset names,
// and index.html rewritten to point at them. No CDN, no inline script or style.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, '..', 'dist', 'web');

// Build only when a source is newer than the last build: `npm start` and tests call
// this often, and rebuilding would swap asset files under a running server.
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, statSync(fileURLToPath(import.meta.url)).mtimeMs);
const stamp = join(out, 'manifest.json');
if (!process.argv.includes('--force') && existsSync(stamp) && statSync(stamp).mtimeMs >= newest(join(root, 'src'))) {
  process.exit(0);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: join(root, 'src', 'main.tsx'), styles: join(root, 'src', 'styles.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const script = outputs.find((f) => f.startsWith('app-') && f.endsWith('.js'));
const style = outputs.find((f) => f.startsWith('styles-') && f.endsWith('.css'));
if (!script || !style) throw new Error('web build: missing outputs ' + outputs.join(', '));
const html = readFileSync(join(root, 'src', 'index.html'), 'utf8').replace('%SCRIPT%', script).replace('%STYLE%', style);
writeFileSync(join(out, 'index.html'), html);
writeFileSync(join(out, 'manifest.json'), JSON.stringify({ script, style }, null, 2));

import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { startTestApp, type TestApp } from './app.js';
import { freePort } from '../../src/backup/throwaway-postgres.js';

/**
 * Browser tests: headless Debian Chromium (`/usr/bin/chromium`, from
 * provisioning/dev-deps.sh) driven by playwright-core — never a downloaded browser.
 * One browser per test file; every page records CSP violations, uncaught errors
 * and console errors, and the test that opened it fails at teardown if any
 * occurred (assertClean checks the same earlier, at a point the test chooses).
 * At teardown each page also leaves a screenshot of its last state.
 */

const CHROMIUM = process.env.OFFICINE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Where screenshots go (gitignored, kept by CI as artifacts): scripts/test.mjs
 * chooses the place, clears it before the run and names it at the end; a file
 * run on its own writes to test-artifacts/web under the current directory.
 */
export const ARTIFACTS_DIR = process.env.OFFICINE_TEST_ARTIFACTS_DIR || resolve('test-artifacts', 'web');

/** What a page reported while the test drove it. */
export interface PageProblems {
  cspViolations: string[];
  pageErrors: string[];
  consoleErrors: string[];
}

/** A page with its recorded problems. */
export interface TestPage {
  page: Page;
  context: BrowserContext;
  problems: PageProblems;
}


/**
 * The real app for a browser: PUBLIC_URL must be the origin the browser sends
 * (CSRF checks Origin against it), so the port is chosen before start-up.
 * Chromium accepts the `__Host-` Secure cookies on http://127.0.0.1 (a
 * potentially trustworthy origin), so no TLS front is needed here.
 */
export async function startBrowserApp(t: Test, env: Record<string, string> = {}): Promise<TestApp> {
  const port = await freePort();
  return startTestApp(t, { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...env });
}

/** Launches headless Chromium for one test file (closed at teardown). A fresh temporary profile each time. */
export async function launchBrowser(t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  t.teardown(() => browser.close());
  return browser;
}

// Runs in the page before any of its scripts: CSP violations are recorded even when
// they happen during the first paint. Given as a string: the test tsconfig has no DOM lib.
const RECORD_CSP = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
  });
`;

/** Console errors that are not faults of the UI: an API refusal (4xx, or 503 read-only) is logged by Chromium as a failed resource. */
const EXPECTED_CONSOLE = /^Failed to load resource: the server responded with a status of (4\d\d|503) /;

/**
 * A new isolated context (own cookies) and page against `baseUrl`. The browser's
 * time zone is deliberately not Paris, so the tests prove dates are shown in
 * Europe/Paris whatever the workstation's setting.
 */
export async function openPage(t: Test, browser: Browser, baseUrl: string): Promise<TestPage> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    locale: 'fr-FR',
    timezoneId: 'America/New_York',
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  await context.addInitScript(RECORD_CSP);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems: PageProblems = { cspViolations: [], pageErrors: [], consoleErrors: [] };
  page.on('pageerror', (err) => problems.pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (/Content Security Policy/i.test(text)) problems.cspViolations.push(text);
    else if (!EXPECTED_CONSOLE.test(text)) problems.consoleErrors.push(text);
  });
  const shot = `${basename(process.argv[1] ?? 'test', '.test.js')}--${slug(t.name)}--${++pagesOpened}-end`;
  t.teardown(async () => {
    try {
      await collectCsp(page, problems);
      // Every page leaves at least its last state as an artifact, failing or not.
      if (!page.isClosed()) await screenshot(page, shot).catch(() => undefined);
    } finally {
      await context.close();
    }
    // Whatever the test asserted before, anything the page reported fails it here.
    const found = [
      ...problems.cspViolations.map((v) => `CSP violation: ${v}`),
      ...problems.pageErrors.map((e) => `uncaught error: ${e}`),
      ...problems.consoleErrors.map((e) => `console error: ${e}`),
    ];
    if (found.length) throw new Error(`the browser reported ${found.length} problem(s) in "${t.name}":\n${found.join('\n')}`);
  });
  return { page, context, problems };
}

let pagesOpened = 0;

/** A test name as a file-name part: lowercase ASCII words joined by dashes, at most 60 characters. */
function slug(name: string): string {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'page';
}

async function collectCsp(page: Page, problems: PageProblems): Promise<void> {
  if (page.isClosed()) return;
  const seen = (await page.evaluate('window.__cspViolations || []').catch(() => [])) as string[];
  for (const v of seen) if (!problems.cspViolations.includes(v)) problems.cspViolations.push(v);
}

/**
 * Asserts that nothing went wrong in the page so far: no CSP violation (event or
 * console), no uncaught exception, no unexpected console error.
 */
export async function assertClean(t: Test, tp: TestPage, what: string): Promise<void> {
  await collectCsp(tp.page, tp.problems);
  t.same(tp.problems.cspViolations, [], `${what}: no CSP violation`);
  t.same(tp.problems.pageErrors, [], `${what}: no uncaught error in the page`);
  t.same(tp.problems.consoleErrors, [], `${what}: no console error`);
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

/** One accessibility finding, trimmed for a readable test diff. */
export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core (from node_modules, injected through the DevTools protocol, so the
 * page's CSP stays strict and unbypassed) and returns the serious and critical
 * violations (WCAG 2.1 A/AA rules and best practices).
 */
export async function axeViolations(page: Page): Promise<AxeFinding[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const present = await page.evaluate('typeof window.axe === "object"');
  if (!present) await page.evaluate(`${axeSource}\n;true`);
  return (await page.evaluate(`
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] })
      .then((r) => r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })))
  `)) as AxeFinding[];
}

/** Asserts axe finds no serious/critical violation on the current page, and saves a screenshot. */
export async function assertAccessible(t: Test, page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  t.same(await axeViolations(page), [], `${name}: no serious or critical accessibility violation (axe-core)`);
}

/** Full-page screenshot under test-artifacts/web/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Every element reached by pressing Tab `n` times from the top, described as "tag#id text". */
export async function tabSequence(page: Page, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    out.push(
      (await page.evaluate(`(() => { const e = document.activeElement; if (!e) return ''; return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || e.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ').slice(0, 60); })()`)) as string,
    );
  }
  return out;
}

/**
 * Signs a page in through the login API from inside the page (the auth browser
 * test covers the form itself): the server sets its `__Host-` cookies as for any
 * login (pass `totp` for accounts that have it).
 */
export async function signIn(page: Page, email: string, password: string, extra: { totp?: string } = {}): Promise<void> {
  await page.goto('/app/connexion');
  await page.locator('h1').waitFor();
  const status = await page.evaluate(`(async () => {
    const { csrfToken } = await fetch('/api/auth/csrf').then((r) => r.json());
    const r = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken },
      body: JSON.stringify(${JSON.stringify({ email, password, ...extra })}),
    });
    return r.status;
  })()`);
  if (status !== 200) throw new Error(`sign-in of ${email} failed with HTTP ${String(status)}`);
}

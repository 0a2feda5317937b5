/**
 * What the web console's browser tests (test/integration/console) share: Debian's chromium (no
 * browser is downloaded; scripts/test-all.sh installs the package), an admin API client with the
 * bearer token, opening a screen on a fresh page load, and axe-core's WCAG 2 A/AA check.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** The browser globals the functions run in the page use (this project's type check has no DOM library). */
declare const document: unknown;

/** Debian's chromium binary, undefined when it is not installed. */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** Calls the admin API at `base` with `Authorization: Bearer <token>`; the body parsed as JSON. */
/* The body is whatever JSON the route answers (untyped, as in the tests that read it). */
export function adminClient(base: string, token: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** Opens a screen on a fresh page load (a change of the hash alone keeps what the screen loaded). */
export async function openScreen(page: Page, base: string, screen: string): Promise<void> {
  await page.goto('about:blank');
  await page.goto(`${base}/console/#/${screen}`);
  await page.locator('main h1').waitFor();
}

/** axe-core (WCAG 2 A/AA rules) on the current page: no violation. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // evaluate() runs outside the page's content security policy, which forbids injected scripts
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  expect(violations, `${what}: accessibility violations`).toEqual([]);
}

/**
 * Launches chromium, opens the console at `base` and logs in with `token` (the Call recording
 * screen is then shown); page errors are pushed to `pageErrors`.
 */
export async function openLoggedIn(base: string, token: string, pageErrors: string[]): Promise<{ browser: Browser; page: Page }> {
  if (!CHROMIUM) throw new Error('chromium is missing: install Debian\'s "chromium" package (scripts/test-all.sh does)');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/console/`);
  await page.getByLabel('Admin token').fill(token);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Call recording', level: 1 }).waitFor();
  return { browser, page };
}

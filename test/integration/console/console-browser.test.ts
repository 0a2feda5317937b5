/**
 * The web console in a real browser (docs/console.md): Debian's chromium driven by playwright-core
 * against the product started as `npm start` runs it (temporary database and recordings, an admin
 * token, ports 48100-48299 of this file's block). Each screen's main flow, validation errors shown
 * before submit and the API's coded errors next to their field, a live PSTN call (SIPp pack)
 * appearing on the page and paused and hung up from it, its recording found and loaded in the
 * player with the right duration, keyboard use and labels checked with axe-core.
 *
 * CONSOLE_SCREENSHOTS=1 also writes the screenshots of docs/console.md (desktop and phone widths).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portBlock } from '../../support/ports.js';
import { ROOT, makeTestAudio, runPackSipp, startProductProcess, writeDemoProvisioning, type ProductProcess } from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { adminClient, CHROMIUM, expectAccessible, openScreen } from '../../support/console-page.js';

/** The browser globals the functions run in the page use (this project's type check has no DOM library). */
declare const document: { activeElement: { textContent: string | null } | null };
type HTMLAudioElement = { readyState: number; duration: number; currentTime: number; play(): Promise<void>; pause(): void };

const TOKEN = 'console-browser-token-0123456789';
const ports = portBlock({ from: 48100, to: 48299 }, 0, 200);
const [sip, drachtio, admin, srs] = ports.take(4);
const media = ports.take(40);
const srsRtp = ports.take(40);
// SIPp's media port is the first of four (audio and video RTP + RTCP)
const [callee, calleeControl] = ports.take(2);
const calleeMedia = ports.take(4)[0];
const [carrier, carrierControl] = ports.take(2);
const carrierMedia = ports.take(4)[0];
const BASE = `http://127.0.0.1:${admin}`;
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'console') : undefined;


let dir = '';
let product: ProductProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const bearer = adminClient(BASE, TOKEN);

async function shot(name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-desktop.png`) });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-phone.png`) });
  await page.setViewportSize({ width: 1280, height: 800 });
}

const accessible = (what: string): Promise<void> => expectAccessible(page, what);

const go = (screen: string): Promise<void> => openScreen(page, BASE, screen);

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('chromium is missing: install Debian\'s "chromium" package (scripts/test-all.sh does)');
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'console-browser-'));
  makeTestAudio(dir);
  const provisioningFile = writeDemoProvisioning(dir, { callee: callee!, carrier: carrier!, srs: srs! });
  product = await startProductProcess({
    dir,
    ports: { sip: sip!, drachtio: drachtio!, admin: admin!, mediaMin: media[0]!, mediaMax: media.at(-1)!, srs: srs!, srsRtpMin: srsRtp[0]!, srsRtpMax: srsRtp.at(-1)! },
    provisioningFile,
    env: { ADMIN_TOKEN: TOKEN },
    readyTimeoutMs: 30_000,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await product?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('web console in chromium', () => {
  it('prints its URL in the ready line and logs in with the admin token, by keyboard; a wrong token is refused on the page', async () => {
    expect(product!.log()).toContain(`"console":"${BASE}/console/"`);
    await page.goto(`${BASE}/console/`);
    const token = page.getByLabel('Admin token');
    await token.waitFor();
    await token.focus();
    await page.keyboard.type('wrong-token');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('ADMIN_UNAUTHORIZED');
    await accessible('login');
    await shot('login');
    await token.fill(TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Call recording', level: 1 }).waitFor();
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'console_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  }, 30_000);

  it('call recording: the 1-60 s delay rule shows before submit; the terms dialog lists what is shared; turning recording off asks for confirmation', async () => {
    const before = (await bearer('GET', '/v1/orgs/demo/service-settings')).body;
    try {
      await bearer('POST', '/v1/orgs/demo/providers', { id: 'acme-rec', name: 'Acme Recording', profile: 'custom', recordingServers: [{ uri: 'sip:rec@192.0.2.10' }], sharedData: ['firstName', 'email'] });
      await go('recording');
      const delay = page.getByLabel('Delay (seconds)');
      await delay.fill('61');
      await page.getByRole('button', { name: 'Save' }).click();
      const error = page.locator('#' + (await delay.getAttribute('aria-describedby'))!.split(' ').find((i) => i.endsWith('-error'))!);
      await expect.poll(() => error.textContent()).toContain('from 1 to 60');
      expect((await bearer('GET', '/v1/orgs/demo/service-settings')).body.compliance, 'nothing sent').toEqual(before.compliance);
      await accessible('call recording with an error');
      await shot('call-recording');
      await delay.fill('7');

      await page.getByLabel('Provider', { exact: true }).selectOption('acme-rec');
      await page.getByRole('button', { name: 'Save' }).click();
      const terms = page.getByRole('dialog', { name: /Terms of use: Acme Recording/ });
      await terms.waitFor();
      expect(await terms.locator('ul.shared li').allTextContents()).toEqual(['First name', 'Email address']);
      await accessible('terms dialog');
      await terms.getByLabel('Accepted by (your name)').fill('Pat Admin');
      await terms.getByRole('button', { name: 'Accept and save' }).click();
      await page.getByText('Saved.').waitFor();
      const after = (await bearer('GET', '/v1/orgs/demo/service-settings')).body;
      expect(after.providerId).toBe('acme-rec');
      expect(after.compliance.delaySeconds).toBe(7);
      expect((await bearer('GET', '/v1/orgs/demo/providers/acme-rec/terms')).body.acceptedBy).toBe('Pat Admin');

      await page.getByLabel('Provider', { exact: true }).selectOption('');
      await page.getByRole('button', { name: 'Save' }).click();
      const confirm = page.getByRole('dialog', { name: 'Turn call recording off for everyone?' });
      await confirm.waitFor();
      expect(await confirm.getByRole('button', { name: 'Turn recording off' }).isDisabled(), 'needs the explicit confirmation').toBe(true);
      await page.keyboard.press('Escape');
      await confirm.waitFor({ state: 'hidden' });
      expect((await bearer('GET', '/v1/orgs/demo/service-settings')).body.providerId, 'Escape changes nothing').toBe('acme-rec');
      await page.getByRole('button', { name: 'Save' }).click();
      await confirm.waitFor();
      await confirm.getByLabel('I understand that recording stops for all users').check();
      await confirm.getByRole('button', { name: 'Turn recording off' }).click();
      await expect.poll(async () => (await bearer('GET', '/v1/orgs/demo/service-settings')).body.providerId, { message: 'confirmed: off for everyone' }).toBeNull();
    } finally {
      // back to the demo's own provider, also when a step above failed (the live call below records through it)
      expect((await bearer('PUT', '/v1/orgs/demo/service-settings', { providerId: before.providerId })).status).toBe(200);
    }
  }, 40_000);

  it('locations: a location overrides the provider and inherits again', async () => {
    await go('locations');
    const mode = page.getByLabel('Provider at this location');
    await mode.selectOption('none');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const locations = (await bearer('GET', '/v1/orgs/demo/locations')).body as { callHandling: { provider: { mode: string } } }[];
    expect(locations[0]!.callHandling.provider.mode).toBe('none');
    await shot('locations');
    await mode.selectOption('orgDefault');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => ((await bearer('GET', '/v1/orgs/demo/locations')).body as typeof locations)[0]!.callHandling.provider.mode).toBe('orgDefault');
  }, 30_000);

  it('users: the licence rule comes back as POLICY_LICENCE_REQUIRED next to the switch; the tone interval rule shows before submit; platform information is shown', async () => {
    const loc = ((await bearer('GET', '/v1/orgs/demo/locations')).body as { id: string }[])[0]!.id;
    expect((await bearer('POST', '/v1/orgs/demo/users', { id: 'carol', locationId: loc, firstName: 'Carol', lastName: 'Nolicence', licence: 'none' })).status).toBe(201);
    await go('users');
    await page.getByRole('button', { name: /^Carol Nolicence/ }).click();
    const form = page.getByRole('form', { name: 'Recording of Carol Nolicence' });
    await form.getByLabel("Record this user's calls").check();
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => form.getByRole('alert').first().textContent()).toContain('POLICY_LICENCE_REQUIRED');
    expect(await form.getByLabel("Record this user's calls").getAttribute('aria-describedby')).toMatch(/-error$/);

    await page.getByRole('button', { name: /^Alice/ }).click();
    const alice = page.getByRole('form', { name: /Recording of Alice/ });
    await alice.getByLabel('Repeat a tone while recording').check();
    await alice.getByLabel('Tone interval (seconds)').fill('5');
    await alice.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => alice.getByRole('alert').first().textContent()).toContain('from 10 to 90');
    expect(await alice.getByRole('region', { name: 'Platform information' }).textContent()).toContain('BroadWorks');
    await accessible('users');
    await shot('users');
  }, 40_000);

  it('virtual lines, features, providers and trunks: each saves what the page shows through the API', async () => {
    const loc = ((await bearer('GET', '/v1/orgs/demo/locations')).body as { id: string }[])[0]!.id;
    expect((await bearer('POST', '/v1/orgs/demo/virtual-lines', { id: 'sales', locationId: loc, displayName: 'Sales line', numbers: ['+15550009001'] })).status).toBe(201);
    expect((await bearer('POST', '/v1/orgs/demo/hunt-groups', { id: 'support', locationId: loc, name: 'Support group', extension: '3001' })).status).toBe(201);

    await go('virtual-lines');
    const line = page.getByRole('form', { name: 'Recording of Sales line' });
    await line.getByLabel("Record this line's calls").check();
    await line.getByLabel('Mode').selectOption('onDemand');
    await line.getByLabel('Announcement language').fill('fr-FR');
    await line.getByRole('button', { name: 'Save' }).click();
    await line.getByText('Saved.').waitFor();
    const saved = (await bearer('GET', '/v1/orgs/demo/virtual-lines/sales')).body;
    expect({ enabled: saved.recording.enabled, mode: saved.recording.mode, language: saved.announcementLanguage }).toEqual({ enabled: true, mode: 'onDemand', language: 'fr-FR' });

    await go('features');
    const group = page.getByRole('form', { name: 'Support group' });
    await group.getByLabel('Announcement language of Support group').fill('es-ES');
    await group.getByRole('button', { name: 'Save' }).click();
    await group.getByText('Saved.').waitFor();
    expect((await bearer('GET', '/v1/orgs/demo/hunt-groups/support')).body.announcementLanguage).toBe('es-ES');

    await go('providers');
    const provider = page.getByRole('form', { name: /^Provider / }).first();
    await provider.getByLabel('When no recording server answers').selectOption('endCallWithAnnouncement');
    await provider.getByRole('button', { name: 'Save' }).click();
    await provider.getByText('Saved.').waitFor();
    const providers = (await bearer('GET', '/v1/orgs/demo/providers')).body as { failurePolicy: string }[];
    expect(providers.map((p) => p.failurePolicy)).toContain('endCallWithAnnouncement');
    await provider.getByLabel('When no recording server answers').selectOption('proceedWithoutAnnouncement');
    await provider.getByRole('button', { name: 'Save' }).click();
    await provider.getByText('Saved.').waitFor();
    await accessible('providers');

    await go('trunks');
    const trunkName = page.getByLabel('Trunk name').first();
    await trunkName.fill('Carrier (renamed)');
    await page.getByRole('button', { name: 'Save' }).first().click();
    await page.getByText('Saved.').waitFor();
    expect(((await bearer('GET', '/v1/orgs/demo/trunks')).body as { name: string }[]).map((t) => t.name)).toContain('Carrier (renamed)');
  }, 40_000);

  it('keyboard: the screens are reached from the navigation with Tab and Enter', async () => {
    await go('recording');
    await page.keyboard.press('Tab');
    for (let i = 0; i < 12; i++) {
      if ((await page.evaluate(() => document.activeElement?.textContent)) === 'Live calls') break;
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Live calls', level: 1 }).waitFor();
  }, 20_000);

  let recordedCallId = '';
  it('live calls: a SIPp call appears by server-sent events, is paused and hung up from the page', async () => {
    await go('calls');
    await page.getByText('Live: the list updates by itself.').waitFor();
    const uas = runPackSipp(dir, 'user-callee', { port: callee!, controlPort: calleeControl!, mediaPort: calleeMedia!, timeoutSec: 30 });
    const uac = runPackSipp(dir, 'pstn-caller', { remote: `127.0.0.1:${sip}`, service: '+15550002001', port: carrier!, controlPort: carrierControl!, mediaPort: carrierMedia!, pauseMs: 20_000, timeoutSec: 30 });
    try {
      const row = page.locator('tr[data-call-id]');
      await row.waitFor({ timeout: 10_000 });
      const state = row.getByTestId('recording-state');
      await expect.poll(() => state.textContent(), { timeout: 10_000 }).toBe('recording');
      recordedCallId = (await row.getAttribute('data-call-id'))!;
      expect(await row.locator('td').first().textContent()).toBe('inbound-pstn');
      await shot('live-calls');
      await row.getByRole('button', { name: /^Pause recording of/ }).click();
      await expect.poll(() => state.textContent(), { timeout: 5000 }).toBe('paused');
      expect((await bearer('GET', `/v1/calls/${recordedCallId}`)).body.recording.state).toBe('paused');
      await row.getByRole('button', { name: /^Resume recording of/ }).click();
      await expect.poll(() => state.textContent(), { timeout: 5000 }).toBe('recording');
      await accessible('live calls');
      await row.getByRole('button', { name: /^Hang up/ }).click();
      await row.waitFor({ state: 'detached', timeout: 10_000 });
      await page.getByText('No call in progress.').waitFor();
    } finally {
      await Promise.allSettled([uac.done, uas.done]);
    }
  }, 60_000);

  it('recordings: the call is found, its audio loads in the player with the recorded duration, the timeline shows the pause', async () => {
    let listed: { recordingId: string; wavDurationMs: number; callId: string }[] = [];
    await expect
      .poll(
        async () => {
          listed = (await bearer('GET', '/v1/recordings')).body.recordings;
          return listed.length;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    await go('recordings');
    await page.getByLabel('User (number, name or id)').fill('alice');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: /^Open/ }).first().click();
    const audio = page.getByLabel('Recording audio');
    await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.readyState), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const duration = await audio.evaluate((a: HTMLAudioElement) => a.duration);
    expect(Math.abs(duration * 1000 - listed[0]!.wavDurationMs), `player ${duration} s, recording ${listed[0]!.wavDurationMs} ms`).toBeLessThan(50);
    await page.getByLabel('Recorded user only (channel 2)').check();
    await audio.evaluate((a: HTMLAudioElement) => a.play());
    await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime), { timeout: 5000 }).toBeGreaterThan(0);
    await audio.evaluate((a: HTMLAudioElement) => a.pause());
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.waitFor();
    expect(await timeline.locator('li.ev-pause').count(), 'the pause made from the page').toBeGreaterThanOrEqual(1);
    // events sit at the player's time: from the WAV's first sample (summary wav.startedAt), which
    // precedes the recording's start by the audio the fork kept from the answer
    const summary = (await bearer('GET', `/v1/recordings/${listed[0]!.recordingId}`)).body;
    const pauseAt = (Date.parse(summary.pauses[0].start) - Date.parse(summary.wav.startedAt)) / 1000;
    const shown = Number((await timeline.locator('li.ev-pause time').first().textContent())!.replace(' s', ''));
    expect(Math.abs(shown - pauseAt), `pause shown at ${shown} s, ${pauseAt} s into the WAV`).toBeLessThanOrEqual(0.051);
    await accessible('recordings');
    await shot('recordings');
    expect(pageErrors).toEqual([]);
  }, 40_000);
});

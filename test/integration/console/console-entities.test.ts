/**
 * Creating and deleting an organisation's entities from the web console (docs/console.md "Creating
 * and deleting"), in Debian's chromium driven by playwright-core against the product started as
 * `npm start` runs it (temporary database, the demo provisioning, an admin token; ports 48300-48399
 * of this file's block). For locations, users, virtual lines, auto attendants / call queues / hunt
 * groups, providers and trunks: the page creates one through the API, the API's validation error
 * lands next to the field it names, Delete asks first, Cancel keeps the entity, a refusal
 * (POLICY_IN_USE) is shown with its code and the entity stays, a confirmed delete removes it.
 * axe-core (WCAG 2 A/AA) runs with the create form and the delete dialog open.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portBlock } from '../../support/ports.js';
import { makeTestAudio, startProductProcess, writeDemoProvisioning, type ProductProcess } from '../../support/product-process.js';
import { adminClient, CHROMIUM, expectAccessible, openLoggedIn, openScreen } from '../../support/console-page.js';

const TOKEN = 'console-entities-token-0123456789';
const ports = portBlock({ from: 48300, to: 48399 }, 0, 100);
const [sip, drachtio, admin, srs, callee, carrier] = ports.take(6);
const media = ports.take(20);
const srsRtp = ports.take(20);
const BASE = `http://127.0.0.1:${admin}`;

let dir = '';
let product: ProductProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

const bearer = adminClient(BASE, TOKEN);

const accessible = (what: string): Promise<void> => expectAccessible(page, what);

const go = (screen: string): Promise<void> => openScreen(page, BASE, screen);

/** Opens the "Add ..." disclosure and returns its form. */
async function createForm(title: string): Promise<Locator> {
  await page.locator('summary', { hasText: title }).click();
  const form = page.getByRole('form', { name: title });
  await form.waitFor();
  return form;
}

/** The error text shown for a field: the element its aria-describedby names that ends in -error. */
async function fieldError(field: Locator): Promise<string> {
  const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(' ');
  const id = ids.find((i) => i.endsWith('-error'));
  if (!id) return '';
  return (await page.locator(`#${id}`).textContent()) ?? '';
}

/** Clicks "Delete <what>", checks the dialog, confirms it; returns the dialog. */
async function confirmDelete(what: string): Promise<Locator> {
  await page.getByRole('button', { name: `Delete ${what}`, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Delete ${what}?` });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  return dialog;
}

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('chromium is missing: install Debian\'s "chromium" package (scripts/test-all.sh does)');
  dir = mkdtempSync(join(tmpdir(), 'console-entities-'));
  makeTestAudio(dir);
  const provisioningFile = writeDemoProvisioning(dir, { callee: callee!, carrier: carrier!, srs: srs! });
  product = await startProductProcess({
    dir,
    ports: { sip: sip!, drachtio: drachtio!, admin: admin!, mediaMin: media[0]!, mediaMax: media.at(-1)!, srs: srs!, srsRtpMin: srsRtp[0]!, srsRtpMax: srsRtp.at(-1)! },
    provisioningFile,
    env: { ADMIN_TOKEN: TOKEN },
    readyTimeoutMs: 30_000,
  });
  ({ browser, page } = await openLoggedIn(BASE, TOKEN, pageErrors));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await product?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('web console: creating and deleting entities', () => {
  it('locations: created from the page; a missing name comes back next to the Name field; a populated location is not deleted (POLICY_IN_USE shown); an empty one is', async () => {
    await go('locations');
    const form = await createForm('Add a location');
    await form.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => fieldError(form.getByLabel('Name'))).toContain('ADMIN_VALIDATION_FAILED');
    await form.getByLabel('Name').fill('Branch office');
    await form.getByLabel('Time zone').fill('Europe/Paris');
    await form.getByRole('button', { name: 'Create' }).click();
    await form.getByText(/^Created /).waitFor();
    const created = ((await bearer('GET', '/v1/orgs/demo/locations')).body as { id: string; name: string; timeZone: string }[]).find((l) => l.name === 'Branch office');
    expect(created?.timeZone).toBe('Europe/Paris');
    // the new location is selected: its call handling form is shown
    await page.getByRole('form', { name: 'Call handling of Branch office' }).waitFor();
    expect(await fieldError(form.getByLabel('Name')), 'the error is gone after a good create').toBe('');

    // Headquarters holds alice and bob: the API refuses, the page says why and keeps it
    await page.getByRole('button', { name: /^Headquarters/ }).click();
    const refused = await confirmDelete('location Headquarters');
    await expect.poll(() => refused.getByRole('alert').textContent()).toContain('POLICY_IN_USE');
    await accessible('locations, the delete refused');
    await refused.getByRole('button', { name: 'Cancel' }).click();
    expect((await bearer('GET', '/v1/orgs/demo/locations/hq')).status).toBe(200);

    await page.getByRole('button', { name: /^Branch office/ }).click();
    // Cancel keeps it
    await page.getByRole('button', { name: 'Delete location Branch office', exact: true }).click();
    await page.getByRole('dialog', { name: 'Delete location Branch office?' }).getByRole('button', { name: 'Cancel' }).click();
    expect((await bearer('GET', `/v1/orgs/demo/locations/${created!.id}`)).status).toBe(200);
    const dialog = await confirmDelete('location Branch office');
    await dialog.waitFor({ state: 'hidden' });
    expect((await bearer('GET', `/v1/orgs/demo/locations/${created!.id}`)).status).toBe(404);
    await expect.poll(() => page.getByRole('list', { name: 'Locations' }).textContent()).not.toContain('Branch office');
  }, 40_000);

  it('users: created with a licence and a number; a number already in use comes back next to Numbers; deleted after confirmation', async () => {
    await go('users');
    const form = await createForm('Add a user');
    await form.getByLabel('First name').fill('Dana');
    await form.getByLabel('Last name').fill('Example');
    await form.getByLabel('Licence').selectOption('basic');
    await form.getByLabel('Numbers').fill('+15550002001');
    await form.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => fieldError(form.getByLabel('Numbers')), { message: "alice's number" }).toContain('POLICY_ADDRESS_IN_USE');
    await accessible('users, the create form with an error');
    await form.getByLabel('Numbers').fill('+15550007001');
    await form.getByRole('button', { name: 'Create' }).click();
    await form.getByText(/^Created /).waitFor();
    const dana = ((await bearer('GET', '/v1/orgs/demo/users')).body as { id: string; firstName: string; licence: string; numbers: string[]; locationId: string }[]).find((u) => u.firstName === 'Dana')!;
    expect({ licence: dana.licence, numbers: dana.numbers, locationId: dana.locationId }).toEqual({ licence: 'basic', numbers: ['+15550007001'], locationId: 'hq' });
    await page.getByRole('form', { name: 'Recording of Dana Example' }).waitFor();
    const dialog = await confirmDelete('user Dana Example');
    await dialog.waitFor({ state: 'hidden' });
    expect((await bearer('GET', `/v1/orgs/demo/users/${dana.id}`)).status).toBe(404);
  }, 40_000);

  it('virtual lines: created and deleted; a user assigned a virtual line is not deleted (POLICY_IN_USE shown)', async () => {
    expect((await bearer('POST', '/v1/orgs/demo/users', { id: 'erin', locationId: 'hq', firstName: 'Erin', lastName: 'Assigned' })).status).toBe(201);
    expect((await bearer('POST', '/v1/orgs/demo/virtual-lines', { id: 'erin-line', locationId: 'hq', displayName: 'Erin line', assignedUserId: 'erin' })).status).toBe(201);
    await go('virtual-lines');
    const form = await createForm('Add a virtual line');
    await form.getByLabel('Display name').fill('Front desk');
    await form.getByLabel('Extension').fill('4100');
    await form.getByRole('button', { name: 'Create' }).click();
    await form.getByText(/^Created /).waitFor();
    const line = ((await bearer('GET', '/v1/orgs/demo/virtual-lines')).body as { id: string; displayName: string; extension: string }[]).find((l) => l.displayName === 'Front desk')!;
    expect(line.extension).toBe('4100');
    await page.getByRole('button', { name: /^Front desk/ }).click();
    const dialog = await confirmDelete('virtual line Front desk');
    await dialog.waitFor({ state: 'hidden' });
    expect((await bearer('GET', `/v1/orgs/demo/virtual-lines/${line.id}`)).status).toBe(404);

    await go('users');
    await page.getByRole('button', { name: /^Erin Assigned/ }).click();
    const refused = await confirmDelete('user Erin Assigned');
    await expect.poll(() => refused.getByRole('alert').textContent()).toContain('POLICY_IN_USE');
    expect((await bearer('GET', '/v1/orgs/demo/users/erin')).status).toBe(200);
  }, 40_000);

  it('features: an auto attendant, a call queue and a hunt group are created in their own section and deleted', async () => {
    await go('features');
    for (const [section, noun, path] of [
      ['Auto attendants', 'auto attendant', 'auto-attendants'],
      ['Call queues', 'call queue', 'call-queues'],
      ['Hunt groups', 'hunt group', 'hunt-groups'],
    ] as const) {
      const region = page.getByRole('region', { name: section });
      const title = `Add ${noun.startsWith('a') ? 'an' : 'a'} ${noun}`;
      await region.locator('summary', { hasText: title }).click();
      const form = region.getByRole('form', { name: title });
      await form.getByLabel('Name').fill(`Test ${noun}`);
      await form.getByLabel('Announcement language').fill('de-DE');
      await form.getByRole('button', { name: 'Create' }).click();
      await form.getByText(/^Created /).waitFor();
      const made = ((await bearer('GET', `/v1/orgs/demo/${path}`)).body as { id: string; name: string; announcementLanguage: string }[]).find((f) => f.name === `Test ${noun}`);
      expect(made?.announcementLanguage, path).toBe('de-DE');
      await region.getByRole('form', { name: `Test ${noun}` }).waitFor();
      const dialog = await confirmDelete(`${noun} Test ${noun}`);
      await dialog.waitFor({ state: 'hidden' });
      expect((await bearer('GET', `/v1/orgs/demo/${path}/${made!.id}`)).status, path).toBe(404);
    }
    await accessible('features');
  }, 40_000);

  it('providers: one is added from a profile; a recording server that is not a SIP URI comes back next to the servers; the organisation\'s provider is not deleted (POLICY_IN_USE shown); the new one is', async () => {
    await go('providers');
    const form = await createForm('Add a provider');
    await form.getByLabel('Name').fill('Backup recorder');
    await form.getByLabel('Recording servers, in failover order').fill('not-a-uri');
    await form.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => fieldError(form.getByLabel('Recording servers, in failover order'))).toMatch(/POLICY_INVALID|ADMIN_VALIDATION_FAILED/);
    await form.getByLabel('Recording servers, in failover order').fill('sip:rec@192.0.2.20 sip:rec@192.0.2.21');
    await form.getByLabel('Profile').selectOption('dubber');
    await form.getByRole('button', { name: 'Create' }).click();
    await form.getByText(/^Created /).waitFor();
    const made = ((await bearer('GET', '/v1/orgs/demo/providers')).body as { id: string; name: string; profile: string; recordingServers: { uri: string }[] }[]).find((p) => p.name === 'Backup recorder')!;
    expect({ profile: made.profile, servers: made.recordingServers.map((s) => s.uri) }).toEqual({ profile: 'dubber', servers: ['sip:rec@192.0.2.20', 'sip:rec@192.0.2.21'] });

    const refused = await confirmDelete('provider Reference recording server (in-process)');
    await expect.poll(() => refused.getByRole('alert').textContent()).toContain('POLICY_IN_USE');
    await accessible('providers, the delete refused');
    await page.keyboard.press('Escape');
    await refused.waitFor({ state: 'hidden' });
    expect((await bearer('GET', '/v1/orgs/demo/providers/reference-srs')).status).toBe(200);

    const dialog = await confirmDelete('provider Backup recorder');
    await dialog.waitFor({ state: 'hidden' });
    expect((await bearer('GET', `/v1/orgs/demo/providers/${made.id}`)).status).toBe(404);
  }, 40_000);

  it('trunks: one is added with its source addresses (a missing name comes back next to the Name field) and deleted', async () => {
    await go('trunks');
    const form = await createForm('Add a trunk');
    await form.getByLabel('Source addresses').fill('192.0.2.50:5060, 192.0.2.51');
    await form.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => fieldError(form.getByLabel('Name'))).toContain('ADMIN_VALIDATION_FAILED');
    expect((await bearer('GET', '/v1/orgs/demo/trunks')).body, 'nothing created').toHaveLength(1);
    await form.getByLabel('Name').fill('Second carrier');
    await form.getByRole('button', { name: 'Create' }).click();
    await form.getByText(/^Created /).waitFor();
    const made = ((await bearer('GET', '/v1/orgs/demo/trunks')).body as { id: string; name: string; sourceAddresses: string[] }[]).find((t) => t.name === 'Second carrier')!;
    expect(made.sourceAddresses).toEqual(['192.0.2.50:5060', '192.0.2.51']);
    await page.getByRole('form', { name: 'Trunk Second carrier' }).waitFor();
    const dialog = await confirmDelete('trunk Second carrier');
    await dialog.waitFor({ state: 'hidden' });
    expect((await bearer('GET', `/v1/orgs/demo/trunks/${made.id}`)).status).toBe(404);
    await accessible('trunks');
    expect(pageErrors).toEqual([]);
  }, 40_000);
});

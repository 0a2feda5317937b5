/**
 * The console's Recordings screen for calls with more than one recording and for recordings that
 * failed over (docs/console.md "Screens"), in Debian's chromium driven by playwright-core against
 * the product started as `npm start` runs it (temporary database, the demo provisioning, an admin
 * token; ports 48400-48599 of this file's block), with SIPp calls:
 *
 * - an internal call from bob to alice, both recorded: the list shows two recordings of the
 *   call, each with its recorded party and mode, and one opens the other;
 * - a PSTN call whose provider lists a recording server that does not answer before the in-process
 *   one (R-40 failover): the recording's timeline shows the failover from the event log
 *   (GET /v1/recordings/{id}/events).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portBlock } from '../../support/ports.js';
import { makeTestAudio, runPackSipp, startDemoCall, startProductProcess, writeDemoProvisioning, type ProductProcess } from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep } from '../../support/wait.js';
import { adminClient, CHROMIUM, expectAccessible, openLoggedIn, openScreen } from '../../support/console-page.js';

const TOKEN = 'console-recordings-token-0123456789';
const block = portBlock({ from: 48400, to: 48599 }, 0, 200);
// RTP ranges first: they start on even ports
const mediaMin = block.take(40)[0]!;
const srsRtpMin = block.take(40)[0]!;
const [sip, drachtio, admin, srs, alice, aliceControl, bob, bobControl, carrier, carrierControl, silentSrs] = block.take(11);
const aliceMedia = block.take(4)[0]!;
const bobMedia = block.take(4)[0]!;
const carrierMedia = block.take(4)[0]!;
const BASE = `http://127.0.0.1:${admin}`;

let dir = '';
let product: ProductProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

const bearer = adminClient(BASE, TOKEN);

const accessible = (what: string): Promise<void> => expectAccessible(page, what);

const go = (screen: string): Promise<void> => openScreen(page, BASE, screen);

/** Waits until the recording server lists `n` recordings; returns them, newest first. */
async function recordings(n: number): Promise<{ recordingId: string; sipSessionIds: string[] }[]> {
  let listed: { recordingId: string; sipSessionIds: string[] }[] = [];
  await expect
    .poll(
      async () => {
        listed = (await bearer('GET', '/v1/recordings')).body.recordings;
        return listed.length;
      },
      { timeout: 15_000 },
    )
    .toBeGreaterThanOrEqual(n);
  return listed;
}

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('chromium is missing: install Debian\'s "chromium" package (scripts/test-all.sh does)');
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'console-recordings-'));
  makeTestAudio(dir);
  const provisioningFile = writeDemoProvisioning(dir, { callee: alice!, carrier: carrier!, srs: srs!, bob: bob! });
  product = await startProductProcess({
    dir,
    ports: { sip: sip!, drachtio: drachtio!, admin: admin!, mediaMin, mediaMax: mediaMin + 39, srs: srs!, srsRtpMin, srsRtpMax: srsRtpMin + 39 },
    provisioningFile,
    // bob's phone places calls from its own port (the pack's user caller)
    env: { ADMIN_TOKEN: TOKEN, CALLS_TRUSTED_SOURCES: `127.0.0.1:${bob}` },
    readyTimeoutMs: 30_000,
  });
  ({ browser, page } = await openLoggedIn(BASE, TOKEN, pageErrors));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await product?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('web console: recordings of one call, failover on the timeline', () => {
  it('an internal call between two recorded users: the list shows each recording with its recorded party and mode, and one opens the other', async () => {
    // bob records every call too (the demo has him on demand)
    expect((await bearer('PUT', '/v1/orgs/demo/users/bob/call-experience', { recording: { enabled: true, mode: 'always' } })).status).toBe(200);
    const callee = runPackSipp(dir, 'user-callee', { port: alice!, controlPort: aliceControl!, mediaPort: aliceMedia, timeoutSec: 30 });
    await sleep(300);
    const caller = runPackSipp(dir, 'user-caller', { remote: `127.0.0.1:${sip}`, service: '2001', port: bob!, controlPort: bobControl!, mediaPort: bobMedia, pauseMs: 3000, keys: { user: 'bob' }, timeoutSec: 30 });
    const [a, b] = await Promise.all([callee.done, caller.done]);
    expect(a.code, a.describe).toBe(0);
    expect(b.code, b.describe).toBe(0);
    const listed = await recordings(2);
    expect(listed[0]!.sipSessionIds.some((id) => listed[1]!.sipSessionIds.includes(id)), 'the two recordings are of one call').toBe(true);

    await go('recordings');
    await page.getByRole('button', { name: 'Search' }).click();
    const cells = page.getByTestId('recorded-party');
    await expect.poll(() => cells.count()).toBe(2);
    const texts = (await cells.allTextContents()).sort();
    expect(texts).toEqual(['Alice Demo (always, with pause and resume)1 of 2 recordings of this call', 'Bob Demo (always)1 of 2 recordings of this call']);

    await page.getByRole('button', { name: /^Open/ }).first().click();
    const detail = page.getByRole('region', { name: 'Recording' });
    await detail.getByText('The same call has another recording:').waitFor();
    const first = (await detail.locator('h2').textContent())!;
    const own = (await detail.getByText(/^Recording of /).textContent())!;
    const other = own.includes('Alice') ? 'Bob Demo (always)' : 'Alice Demo (always, with pause and resume)';
    await detail.getByRole('button', { name: `Open the recording of ${other}` }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Recording' }).locator('h2').textContent()).not.toBe(first);
    expect(await page.getByRole('region', { name: 'Recording' }).getByText(/^Recording of /).textContent()).toBe(`Recording of ${other}.`);
    await accessible('recordings of one call');
  }, 60_000);

  it('a recording server that does not answer: the recording made through the next one shows the failover on its timeline', async () => {
    // nothing listens on silentSrs: the first attempt times out or fails at once, the in-process server answers the second
    const provider = (await bearer('GET', '/v1/orgs/demo/providers/reference-srs')).body as { recordingServers: { uri: string }[] };
    expect(
      (await bearer('PATCH', '/v1/orgs/demo/providers/reference-srs', { recordingServers: [{ uri: `sip:srs@127.0.0.1:${silentSrs}` }, ...provider.recordingServers] })).status,
    ).toBe(200);
    const before = (await recordings(2)).length;
    const call = await startDemoCall(dir, {
      sipPort: sip!,
      callee: { port: alice!, controlPort: aliceControl!, mediaPort: aliceMedia },
      carrier: { port: carrier!, controlPort: carrierControl!, mediaPort: carrierMedia },
      pauseMs: 7000,
      timeoutSec: 30,
    });
    const [a, b] = await Promise.all([call.callee.done, call.caller.done]);
    expect(a.code, a.describe).toBe(0);
    expect(b.code, b.describe).toBe(0);
    const newest = (await recordings(before + 1))[0]!;
    const events = (await bearer('GET', `/v1/recordings/${newest.recordingId}/events`)).body as { kept: boolean; events: { event: string; recording?: { srs?: { attempt: number } } }[] };
    expect(events.kept).toBe(true);
    expect(events.events.find((e) => e.event === 'started')?.recording?.srs?.attempt, 'answered on the second try').toBe(1);

    await go('recordings');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: /^Open/ }).first().click();
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.waitFor();
    expect(await timeline.locator('li.ev-failover').allTextContents()).toEqual([expect.stringMatching(new RegExp(`failover: srs@127\\.0\\.0\\.1:${srs}(;transport=udp)? answered on try 2 \\(the first server did not\\)`))]);
    await accessible('recording timeline with a failover');
    expect(pageErrors).toEqual([]);
  }, 60_000);
});

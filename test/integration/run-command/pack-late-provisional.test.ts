/**
 * The pack's callers (sipp-scenarios/pack/pstn-caller.xml and user-caller.xml) against a far end
 * whose 180 arrives after its 200, as a proxy with several worker processes (Kamailio) can deliver
 * them: the call goes on (the late 1xx belongs to the INVITE transaction and is ignored) instead
 * of failing on an unexpected message. SIPp on both sides, no product. Ports 47200-47299.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { portBlock } from '../../support/ports.js';
import { makeTestAudio, runPackSipp } from '../../support/product-process.js';
import { runSipp } from '../../support/sipp.js';

const ports = portBlock({ from: 47200, to: 47299 }, 0, 100);
const dir = mkdtempSync(join(tmpdir(), 'pack-late-1xx-'));
makeTestAudio(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A far end that answers 200 and, once the ACK is in, sends a 180 for the same INVITE (its Via
 * and CSeq, kept from the INVITE): the 1xx reaches the caller while it talks.
 */
function lateRingingAnswerer(mediaPort: number): string {
  const path = join(dir, 'late-180-uas.xml');
  writeFileSync(
    path,
    `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="late-180-uas">
  <recv request="INVITE">
    <action>
      <ereg regexp=".*" search_in="hdr" header="Via:" assign_to="via"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio ${mediaPort} RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv request="ACK"/>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      Via:[$via]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      CSeq: 1 INVITE
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
`,
  );
  return path;
}

describe('pack callers and a 180 that arrives after the 200', () => {
  for (const caller of ['pstn-caller', 'user-caller']) {
    it(`${caller}.xml completes the call`, async () => {
      const [uasPort, uasControl, uasMedia] = ports.take(3);
      const [port, controlPort] = ports.take(2);
      const [mediaPort] = ports.take(4);
      const answerer = runSipp({ scenario: lateRingingAnswerer(uasMedia!), port: uasPort!, controlPort: uasControl!, calls: 1, timeoutSec: 30 });
      const run = runPackSipp(dir, caller, {
        remote: `127.0.0.1:${uasPort}`,
        service: '+15550002001',
        port: port!,
        controlPort: controlPort!,
        mediaPort: mediaPort!,
        pauseMs: 500,
        ...(caller === 'user-caller' ? { keys: { user: 'alice' } } : {}),
      });
      const done = await run.done;
      expect(done.code, done.describe).toBe(0);
      const far = await answerer;
      expect(far.exitCode, far.describe()).toBe(0);
      expect(far.stats.successful).toBe(1);
    }, 60_000);
  }
});

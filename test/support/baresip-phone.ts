/**
 * baresip (Debian `baresip-core`, 1.0) as a test phone (soft-phone.ts), driven through its stdio
 * console: long commands `/dial <uri>`, `/hold`, `/resume`, `/hangup`, `/quit`.
 *
 * Configuration written to the phone's directory (`baresip -f <dir>`):
 *   - `sip_listen <address>:<port>`: SIP over UDP and TCP on the phone's own address;
 *   - one account `<sip:user@domain>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA` (no
 *     registration, auto answer);
 *   - microphone: module `aufile` reading the source WAV; speaker: ALSA's `null` device (module
 *     `alsa`), which still pulls the decoded audio at the real rate;
 *   - module `sndfile` (an audio filter) writes what the phone heard to `<dir>/heard/dump-*-dec.wav`
 *     (and what it sent to `-enc.wav`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PhoneConsole, type PhoneEvent, type SoftPhone, type SoftPhoneOptions } from './soft-phone.js';

const MODULES = '/usr/lib/baresip/modules';

/** Console lines of baresip 1.0 that mark call events. */
const EVENTS: Readonly<Record<PhoneEvent, RegExp>> = {
  established: /Call established:/,
  ended: /: Call with .* terminated/,
  held: /call: hold /,
  resumed: /call: resume /,
};

export interface BaresipOptions extends SoftPhoneOptions {
  /** RTP port range (inclusive). Default 16000-16099. */
  rtpPorts?: [number, number];
}

export function startBaresip(o: BaresipOptions): SoftPhone {
  const heardDir = join(o.dir, 'heard');
  mkdirSync(heardDir, { recursive: true });
  const [rtpMin, rtpMax] = o.rtpPorts ?? [16000, 16099];
  writeFileSync(
    join(o.dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen ${o.address}:${o.sipPort}`,
      'call_local_timeout 120',
      `audio_source aufile,${o.sourceWav}`,
      'audio_player alsa,null',
      'audio_alert alsa,null',
      'ausrc_srate 8000',
      'auplay_srate 8000',
      'ausrc_channels 1',
      'auplay_channels 1',
      `rtp_ports ${rtpMin}-${rtpMax}`,
      `module_path ${MODULES}`,
      'module stdio.so',
      'module g711.so',
      'module aufile.so',
      'module alsa.so',
      'module sndfile.so',
      `snd_path ${heardDir}`,
      'module_app account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  );
  writeFileSync(join(o.dir, 'accounts'), `<sip:${o.user}@${o.domain}>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n`);
  const argv = [...o.commandPrefix, 'baresip', '-f', o.dir];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: o.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  const console = new PhoneConsole(child, EVENTS);
  return {
    name: 'baresip',
    dial: (uri) => console.send(`/dial ${uri}`),
    hold: () => console.send('/hold'),
    resume: () => console.send('/resume'),
    hangup: () => console.send('/hangup'),
    waitFor: (event, timeoutMs, n) => console.waitFor('baresip', event, timeoutMs, n),
    count: (event) => console.count(event),
    heardWav: () => {
      const files = readdirSync(heardDir)
        .filter((f) => f.endsWith('-dec.wav'))
        .map((f) => join(heardDir, f))
        .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
      const last = files.at(-1);
      if (!last) throw new Error(`baresip wrote no *-dec.wav in ${heardDir}\n${console.log().slice(-3000)}`);
      return last;
    },
    log: () => console.log(),
    close: () => console.close(['/hangup', '/quit']),
  };
}

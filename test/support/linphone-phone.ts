/**
 * Linphone's console phone (Debian `linphone-cli`, `linphonec` 5.1) as a test phone
 * (soft-phone.ts), driven through stdin: `call <uri>`, `pause`, `resume`, `terminate`, `quit`.
 *
 * Start-up commands (after `linphonec -c <dir>/linphonerc`, HOME=<dir>):
 *   - `ipv6 enable` + `ipv6 disable`: re-applies the transports of the rc file (sip_port and
 *     sip_tcp_port), so UDP and TCP listen even when the core started without them (its own
 *     `ports sip N` command opens UDP only). HOME must hold .local/share/linphone/ (its database):
 *     without it the core never reaches its 'On' state, and answers incoming INVITEs 503;
 *   - `soundcard use files`, `play <source.wav>`, `record <heard.wav>`: a WAV file as microphone
 *     and what it hears recorded to a WAV file;
 *   - `autoanswer enable`.
 *
 * With `listenOnAll` the rc file has no `bind_address`: SIP and RTP listen on 0.0.0.0 and the phone
 * writes the address of its host's default route into its SDP (c=, o=), whatever interface its
 * packets leave from. (`nat <address>` + `firewall nat` do not change the SDP of linphonec 5.1.)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PhoneConsole, type PhoneEvent, type SoftPhone, type SoftPhoneOptions } from './soft-phone.js';

/** Console lines of linphonec 5.1 that mark call events. */
const EVENTS: Readonly<Record<PhoneEvent, RegExp>> = {
  established: /Call \d+ .* connected\./,
  ended: /Call \d+ with .* ended/,
  held: /Call \d+ with .* is now paused\.|Call \d+ .* paused\b/,
  resumed: /Call \d+ with .* resumed\.|Call \d+ .* resumed\b/,
};

export interface LinphoneOptions extends SoftPhoneOptions {
  /** RTP port. Default 7078. */
  rtpPort?: number;
  /** Listen on every address (no `bind_address`) instead of `address` only. Default false. */
  listenOnAll?: boolean;
}

export function startLinphone(o: LinphoneOptions): SoftPhone {
  const heard = join(o.dir, 'heard.wav');
  const rc = join(o.dir, 'linphonerc');
  // its call history database; without it the core never reaches its 'On' state and refuses calls with 503
  mkdirSync(join(o.dir, '.local', 'share', 'linphone'), { recursive: true });
  writeFileSync(
    rc,
    [
      '[sip]',
      `sip_port=${o.sipPort}`,
      `sip_tcp_port=${o.sipPort}`,
      ...(o.listenOnAll ? [] : [`bind_address=${o.address}`]),
      `contact="Phone" <sip:${o.user}@${o.address}>`,
      'inc_timeout=30',
      '[rtp]',
      `audio_rtp_port=${o.rtpPort ?? 7078}`,
      '[sound]',
      'echocancellation=0',
      '[video]',
      'enabled=0',
      'capture=0',
      'display=0',
      '',
    ].join('\n'),
  );
  const argv = [...o.commandPrefix, 'linphonec', '-c', rc, '-d', '5', '-l', join(o.dir, 'linphonec.log')];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: o.dir, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: o.dir } });
  const console = new PhoneConsole(child, EVENTS);
  for (const line of ['ipv6 enable', 'ipv6 disable', 'soundcard use files', `play ${o.sourceWav}`, `record ${heard}`, 'autoanswer enable']) console.send(line);
  return {
    name: 'linphonec',
    dial: (uri) => console.send(`call ${uri}`),
    hold: () => console.send('pause'),
    resume: () => console.send('resume'),
    hangup: () => console.send('terminate'),
    waitFor: (event, timeoutMs, n) => console.waitFor('linphonec', event, timeoutMs, n),
    count: (event) => console.count(event),
    heardWav: () => {
      if (!existsSync(heard)) throw new Error(`linphonec wrote no ${heard}\n${console.log().slice(-3000)}`);
      return heard;
    },
    log: () => console.log(),
    close: () => console.close(['terminate', 'quit'], 2500),
  };
}

/**
 * Minimal drachtio-srf app for the engine benchmark, run as its own process:
 *   node --import tsx bench/apps/engine-bench-app.ts --mode uas|b2b --host 127.0.0.1 --port 30001 --secret bench [--b-uri sip:callee@127.0.0.1:30020]
 * uas: answers every INVITE with createUAS (the caller hangs up).
 * b2b: bridges every INVITE with createB2BUA to --b-uri and propagates BYE between the legs.
 * Prints "ready" on stdout once connected; exits on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import Srf from 'drachtio-srf';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'uas' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '30001' },
    secret: { type: 'string', default: 'bench' },
    'b-uri': { type: 'string', default: 'sip:callee@127.0.0.1:30020' },
  },
  strict: true,
});

const ANSWER_SDP = ['v=0', 'o=bench 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

const srf = new Srf();
srf.on('error', () => undefined);
let failures = 0;
srf.invite((req, res) => {
  if (values.mode === 'b2b') {
    srf
      .createB2BUA(req, res, values['b-uri']!, { localSdpB: req.body })
      .then(({ uas, uac }) => {
        uas.on('destroy', () => uac.destroy());
        uac.on('destroy', () => uas.destroy());
      })
      .catch(() => failures++);
  } else {
    srf.createUAS(req, res, { localSdp: ANSWER_SDP }).catch(() => failures++);
  }
});
srf.on('connect', (err: Error | null) => {
  if (err) {
    console.error(`connect failed: ${err.message}`);
    process.exit(1);
  }
  console.log('ready');
});
void srf.connect({ host: values.host!, port: Number(values.port), secret: values.secret! });

const stop = (): void => {
  console.error(`app failures: ${failures}`);
  try {
    srf.disconnect();
  } finally {
    process.exit(0);
  }
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

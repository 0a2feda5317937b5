/**
 * The field test bed: the whole product (as `npm start` runs it, test/support/product-process.ts),
 * SIPp as the carrier and real phones (baresip, linphonec), each in network namespaces of its own
 * (test/support/netns.ts), named after the test process so parallel runs never collide:
 *
 *   provider  203.0.113.10  the product (SIP 5060 UDP+TCP, media, in-process recording server 5090)
 *             203.0.113.20  the carrier: SIPp (5080) for signalling, carrier-media.ts (6000) for RTP
 *             198.51.100.10 the link to the phone that is not behind NAT
 *      |  veth "pub"
 *   nat       203.0.113.1   masquerade (port-preserving, or fully-random source ports for RTP),
 *             10.0.0.1      port forward 203.0.113.1:5062 (UDP+TCP) -> 10.0.0.2:5062
 *      |  veth "prv"
 *   phone     10.0.0.2      the phone behind NAT, default route via 10.0.0.1
 *
 *   direct    198.51.100.30 a phone not behind NAT with two interfaces: "eth" (198.51.100.30, linked
 *      |  veth "dir"       to the provider) carries a specific route to the provider's 203.0.113.0/24;
 *             192.0.2.30    "dflt" (a network the bed does not model, a second NIC or VPN) carries
 *                           its default route via 192.0.2.1. Phones write the default route's
 *                           address into their SDP, while their RTP sockets (bound to 0.0.0.0)
 *                           send from 198.51.100.30, the source of the route to the provider.
 *
 * The demo provisioning (config/demo-provisioning.yaml) with alice (+15550002001, recorded always)
 * reached at the NAT's forwarded port 203.0.113.1:5062 (her phone's Contact and SDP name its
 * private address, as in the field), the trunk's carrier at 203.0.113.20, and the phones' sources
 * (the NAT's public address, the direct phone) trusted to place calls (CALLS_TRUSTED_SOURCES).
 * Everything listens inside the namespaces, so fixed ports are used.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goertzelPower, meanSquare } from '../../support/goertzel.js';
import { Netns, requireNetns, run } from '../../support/netns.js';
import {
  exited,
  readWav,
  recordingFiles,
  ROOT,
  runPackSipp,
  startProductProcess,
  withTimeout,
  writeDemoProvisioning,
  type PackSippRun,
  type ProductProcess,
} from '../../support/product-process.js';
import { assertSippInstalled, parseSippMessages, type SippMessage } from '../../support/sipp.js';
import type { SipTransportName } from '../../support/soft-phone.js';
import { sleep } from '../../support/wait.js';

export const ADDR = {
  product: '203.0.113.10',
  carrier: '203.0.113.20',
  natPublic: '203.0.113.1',
  natPrivate: '10.0.0.1',
  phone: '10.0.0.2',
  providerDirect: '198.51.100.10',
  directPhone: '198.51.100.30',
  wrongInterface: '192.0.2.30',
  wrongInterfaceGateway: '192.0.2.1',
} as const;

export const PORT = { sip: 5060, phoneSip: 5062, carrierSip: 5080, carrierControl: 8880, carrierMedia: 6000, admin: 8080 } as const;

/** Test tones: each party its own frequency, so every channel and ear can be told apart (Goertzel). */
export const HZ = { phone: 1000, carrier: 600 } as const;

export const ALICE = '+15550002001';
export const PSTN_NUMBER = '+15559990000';

export type NatMode = 'port-preserving' | 'port-changing';

/** True when `tool` runs (`tool -h` / `--version` exits at all). */
function installed(tool: string, args: string[]): boolean {
  return !spawnSync(tool, args, { encoding: 'utf8', timeout: 5000 }).error;
}

/** Throws with the reason when the bed cannot run here (FAILS the test file, never skips). */
export function requireFieldTools(): void {
  requireNetns();
  assertSippInstalled();
  const missing = [
    ['baresip', ['-h'], 'baresip-core'],
    ['linphonec', ['-v'], 'linphone-cli'],
    ['sox', ['--version'], 'sox'],
  ].filter(([tool, args]) => !installed(tool as string, args as string[]));
  if (missing.length > 0) throw new Error(`the field test bed needs ${missing.map((m) => `${m[0]} (Debian: ${m[2]})`).join(', ')}; \`npm run test:all\` installs them`);
}

export class FieldBed {
  readonly netns: Netns;
  readonly dir: string;
  readonly ns: { provider: string; nat: string; phone: string; direct: string };
  #product: ProductProcess | undefined;
  readonly #children = new Set<ChildProcess>();
  #productLines: string[] = [];

  constructor(tag: string) {
    requireFieldTools();
    this.dir = mkdtempSync(join(tmpdir(), `field-${tag}-`));
    this.netns = new Netns(`fld${process.pid}${tag}`.slice(0, 24));
    try {
      const n = this.netns;
      this.ns = { provider: n.add('provider'), nat: n.add('nat'), phone: n.add('phone'), direct: n.add('direct') };
      n.link({ ns: this.ns.provider, ifname: 'pub', addresses: [`${ADDR.product}/24`, `${ADDR.carrier}/24`] }, { ns: this.ns.nat, ifname: 'pub', addresses: [`${ADDR.natPublic}/24`] });
      n.link({ ns: this.ns.nat, ifname: 'prv', addresses: [`${ADDR.natPrivate}/24`] }, { ns: this.ns.phone, ifname: 'prv', addresses: [`${ADDR.phone}/24`] });
      n.defaultRoute(this.ns.phone, ADDR.natPrivate);
      n.forwarding(this.ns.nat);
      this.setNat('port-preserving');
      n.link({ ns: this.ns.provider, ifname: 'dir', addresses: [`${ADDR.providerDirect}/24`] }, { ns: this.ns.direct, ifname: 'eth', addresses: [`${ADDR.directPhone}/24`] });
      // its other interface (a second NIC, a VPN) holds the default route; the provider is reached
      // through the more specific route on "eth": SDP says 192.0.2.30, RTP leaves from 198.51.100.30
      n.deadEndLink(this.ns.direct, 'dflt', [`${ADDR.wrongInterface}/24`]);
      n.defaultRoute(this.ns.direct, ADDR.wrongInterfaceGateway);
      n.route(this.ns.direct, '203.0.113.0/24', ADDR.providerDirect);
    } catch (err) {
      this.netns.close();
      throw err;
    }
    run(['sox', '-q', '-n', '-r', '8000', '-c', '1', '-b', '16', join(this.dir, 'phone.wav'), 'synth', '30', 'sine', String(HZ.phone), 'vol', '-12dB']);
  }

  /** The phone's microphone: a mono 8 kHz WAV of the phone's tone. */
  get phoneWav(): string {
    return join(this.dir, 'phone.wav');
  }

  /**
   * The NAT's masquerade: 'port-preserving' keeps source ports where it can (SIP and RTP leave
   * from the phone's own ports), 'port-changing' maps every UDP flow except SIP to a random port
   * (the phone's RTP arrives from a port other than its SDP port). The port forward stays.
   */
  setNat(mode: NatMode): void {
    const random = mode === 'port-changing' ? `oifname "pub" udp sport != ${PORT.phoneSip} masquerade fully-random\n` : '';
    this.netns.nft(
      this.ns.nat,
      `flush ruleset
table ip field {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "pub" udp dport ${PORT.phoneSip} dnat to ${ADDR.phone}:${PORT.phoneSip}
    iifname "pub" tcp dport ${PORT.phoneSip} dnat to ${ADDR.phone}:${PORT.phoneSip}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ${random}oifname "pub" masquerade
  }
}
`,
    );
  }

  /** The NAT's connection tracking table (/proc/net/nf_conntrack in the nat namespace), '' when unavailable. */
  conntrack(): string {
    const r = spawnSync('ip', ['netns', 'exec', this.ns.nat, 'cat', '/proc/net/nf_conntrack'], { encoding: 'utf8', timeout: 5000 });
    return r.status === 0 ? r.stdout : '';
  }

  /** Starts the product in the provider namespace; calls to alice and the carrier use `transport`. */
  async startProduct(transport: SipTransportName, env: Record<string, string> = {}): Promise<ProductProcess> {
    await this.stopProduct();
    const dir = join(this.dir, `product-${transport}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const provisioningFile = writeDemoProvisioning(dir, {
      callee: PORT.phoneSip,
      carrier: PORT.carrierSip,
      srs: 5090,
      hosts: { callee: ADDR.natPublic, carrier: ADDR.carrier, srs: ADDR.product },
      // SIPp's TCP connections leave from ephemeral ports
      extraTrunkSources: [ADDR.carrier],
    });
    const tcp = transport === 'tcp' ? ';transport=tcp' : '';
    // alice's phone is reached at her SIP identity: the NAT's forwarded port, her number as user part
    const identity = `alice@${ADDR.natPublic}:${PORT.phoneSip}`;
    const text = readFileSync(provisioningFile, 'utf8');
    if (!text.includes(identity)) throw new Error(`the demo provisioning no longer has ${identity}`);
    writeFileSync(provisioningFile, text.replace(identity, `${ALICE}@${ADDR.natPublic}:${PORT.phoneSip}${tcp}`));
    this.#productLines = [];
    this.#product = await startProductProcess({
      dir,
      ports: { sip: PORT.sip, drachtio: 9022, admin: PORT.admin, mediaMin: 40000, mediaMax: 40999, srs: 5090, srsRtpMin: 50000, srsRtpMax: 50999 },
      provisioningFile,
      logLevel: 'debug',
      commandPrefix: this.netns.prefixFor(this.ns.provider),
      onLine: (line) => {
        this.#productLines.push(line);
        if (this.#productLines.length > 20_000) this.#productLines.splice(0, 5000);
      },
      env: {
        SIP_CONTACTS: `sip:${ADDR.product}:${PORT.sip};transport=udp,tcp`,
        MEDIA_ADDRESS: ADDR.product,
        SRS_SIP_URI: `sip:srs@${ADDR.product}:5090`,
        CALLS_TRUSTED_SOURCES: `${ADDR.natPublic},${ADDR.directPhone}`,
        ...(tcp ? { CALLS_TRUNK_TARGETS: `carrier=${ADDR.carrier}:${PORT.carrierSip}${tcp}` } : {}),
        ...env,
      },
      readyTimeoutMs: 25_000,
    });
    return this.#product;
  }

  /** Product log lines (JSON) seen since it started. */
  productLines(): readonly string[] {
    return this.#productLines;
  }

  async stopProduct(): Promise<void> {
    await this.#product?.kill();
    this.#product = undefined;
  }

  /** The product's Prometheus text (GET /v1/metrics on its admin API inside the provider namespace). */
  metrics(): string {
    const script = `fetch('http://127.0.0.1:${PORT.admin}/v1/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(String(e)); process.exit(1); })`;
    return run([...this.netns.prefixFor(this.ns.provider), process.execPath, '-e', script]);
  }

  /** One sample of a metric ('name{label="x"}'), 0 when absent. */
  metric(series: string): number {
    const line = this.metrics()
      .split('\n')
      .find((l) => l.startsWith(`${series} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  /** The carrier's RTP end (carrier-media.ts) in the provider namespace; resolves once it listens. */
  async startCarrierMedia(name: string): Promise<{ heard: () => Int16Array; stop: () => Promise<void> }> {
    await this.endCall();
    const out = join(this.dir, `${name}.carrier-heard.pcm`);
    const argv = [...this.netns.prefixFor(this.ns.provider), process.execPath, '--import', 'tsx', join(ROOT, 'test/integration/field/carrier-media.ts'), ADDR.carrier, String(PORT.carrierMedia), String(HZ.carrier), out, '60'];
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.add(child);
    let output = '';
    const listening = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('listening')) resolve();
      });
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      void exited(child).then((e) => reject(new Error(`carrier-media exited (${e.code}/${e.signal}): ${output}`)));
    });
    await withTimeout(listening, 15_000, 'carrier-media listening');
    return {
      heard: () => {
        const buf = existsSync(out) ? readFileSync(out) : Buffer.alloc(0);
        return new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 2));
      },
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await withTimeout(exited(child), 5000, 'carrier-media exit').catch(() => child.kill('SIGKILL'));
        this.#children.delete(child);
      },
    };
  }

  /** SIPp as the carrier (test/integration/field/scenarios/<name>.xml) in the provider namespace. */
  carrier(name: 'carrier-caller' | 'carrier-callee', transport: SipTransportName, opts: { pauseMs?: number; service?: string } = {}): PackSippRun & { messages: () => SippMessage[] } {
    const log = join(this.dir, `${name}.msg.log`);
    rmSync(log, { force: true });
    const sippRun = runPackSipp(this.dir, name, {
      scenarioFile: join(ROOT, 'test/integration/field/scenarios', `${name}.xml`),
      commandPrefix: this.netns.prefixFor(this.ns.provider),
      remote: name === 'carrier-caller' ? `${ADDR.product}:${PORT.sip}` : undefined,
      service: opts.service,
      localIp: ADDR.carrier,
      mediaIp: ADDR.carrier,
      port: PORT.carrierSip,
      controlPort: PORT.carrierControl,
      mediaPort: 6100,
      pauseMs: opts.pauseMs,
      transport: transport === 'tcp' ? 't1' : 'u1',
      keys: { mport: PORT.carrierMedia },
      timeoutSec: 30,
    });
    this.#children.add(sippRun.child);
    return { ...sippRun, messages: () => (existsSync(log) ? parseSippMessages(readFileSync(log, 'utf8')) : []) };
  }

  /** Kills the carrier's SIPp and media of a call that a failed test left behind. */
  async endCall(): Promise<void> {
    for (const child of this.#children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all([...this.#children].map((c) => withTimeout(exited(c), 5000, 'child exit').catch(() => undefined)));
    this.#children.clear();
  }

  /** The WAV files the recording server wrote so far. */
  recordings(transport: SipTransportName): string[] {
    return recordingFiles(join(this.dir, `product-${transport}`, 'recordings')).filter((f) => f.endsWith('.wav'));
  }

  /** A fresh directory for one phone. */
  phoneDir(name: string): string {
    return mkdtempSync(join(this.dir, `${name}-`));
  }

  /** Kills every child still running, stops the product, deletes the namespaces and files. */
  async close(): Promise<void> {
    await this.endCall();
    await this.stopProduct();
    const errors = this.netns.close();
    if (!process.env.FIELD_KEEP_FILES) rmSync(this.dir, { recursive: true, force: true });
    if (errors.length > 0) throw new Error(errors.join('\n'));
  }
}

/** One channel of a 16-bit WAV (the recording, what a phone heard) with its sample rate. */
export function wavChannel(path: string, ch = 0): { pcm: Int16Array; rate: number } {
  const wav = readWav(path);
  return { pcm: wav.samples(ch), rate: wav.rate };
}

/** A window [fromS, toS) of PCM at `rate` (negative values count from the end). */
export function window(pcm: Int16Array, rate: number, fromS: number, toS: number): Int16Array {
  const at = (s: number): number => Math.max(0, Math.min(pcm.length, Math.round((s < 0 ? pcm.length / rate + s : s) * rate)));
  return pcm.subarray(at(fromS), at(toS));
}

/** Power ratio of `hz` over `otherHz` in the PCM (Goertzel), for "this channel holds that party". */
export function toneRatio(pcm: Int16Array, hz: number, otherHz: number, rate = 8000): number {
  return goertzelPower(pcm, hz, rate) / Math.max(goertzelPower(pcm, otherHz, rate), 1e-12);
}

/** Share of the signal's power at `hz` (a pure tone at `hz` reads ~1, speech or another tone ~0). */
export function share(pcm: Int16Array, hz: number, rate = 8000): number {
  const ms = meanSquare(pcm);
  return ms === 0 ? 0 : goertzelPower(pcm, hz, rate) / (2 * ms);
}

/** What a stretch of audio is: its mean power (a full-scale sine reads 0.5) and the share of each party's tone. */
export function describeAudio(pcm: Int16Array, rate = 8000): { level: number; phoneShare: number; carrierShare: number } {
  return { level: meanSquare(pcm), phoneShare: share(pcm, HZ.phone, rate), carrierShare: share(pcm, HZ.carrier, rate) };
}

/** Waits for the recording WAV of the call (the n-th of this product run). */
export async function recordingOf(bed: FieldBed, transport: SipTransportName, before: readonly string[]): Promise<string> {
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline) {
    const fresh = bed.recordings(transport).filter((f) => !before.includes(f));
    if (fresh.length > 0) {
      await sleep(300);
      return fresh[0]!;
    }
    await sleep(100);
  }
  throw new Error(`no new recording WAV within 8 s (have: ${bed.recordings(transport).join(', ')})`);
}

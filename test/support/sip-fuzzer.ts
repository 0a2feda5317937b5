/**
 * A seeded SIP mutation fuzzer for robustness tests.
 *
 * It takes a corpus of valid messages (test/fixtures/sip-corpus/*.sip, templates with
 * `{{PLACEHOLDER}}`s), renders one with fresh ids for every variant, and applies 1 to 4 mutations
 * chosen by a small PRNG (mulberry32). Variant `i` of seed `s` depends on nothing but (s, i), so a
 * failing variant is reproduced on its own with `fuzzer.variant(i)`, without replaying the run.
 *
 * Mutations work on bytes (latin1 strings, one char per byte), because NUL, bare CR and 8-bit bytes
 * are the point:
 *
 *   byte-flip            flip 1-8 random bits                      truncate          cut the message anywhere
 *   random-bytes         overwrite a run with random bytes         header-delete     drop a header line (mandatory ones too)
 *   header-duplicate     repeat a header line (2 Content-Length, 2 Call-ID, ...)
 *   huge-value           a header value of 1 KiB - 60 KiB           huge-number       CSeq/Max-Forwards/Content-Length/Expires overflow
 *   crlf-injection       CR, LF, CRLF, or CRLFCRLF inside a line    nul-injection     NUL bytes in a header value or the body
 *   content-length       too small, too big, negative, not a number, missing, repeated
 *   start-line           bad method, version, URI, status code, extra/missing spaces, lower case
 *   multipart-boundary   boundary changed in the header or the body, closing delimiter lost, empty boundary
 *   sdp-corruption       SDP lines dropped, duplicated, out of range (ports, payload types), broken c=/m=
 *   header-syntax        no colon, space before colon, empty name, folded lines, compact forms
 *   utf8                 invalid UTF-8 and multi-byte sequences inside values
 *
 * Pure apart from reading the corpus files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: a tiny 32-bit PRNG with a good enough spread for fuzzing; fully determined by its seed. */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** `n` random bytes as a latin1 string. */
  bytes(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(256));
    return s;
  }

  /** `n` random token characters (letters and digits). */
  token(n: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

/** A 32-bit hash of (seed, index) that seeds one variant's PRNG (splitmix-like finaliser). */
export function variantSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The seed to use: SIP_FUZZ_SEED (a number, or 'random'), else `fallback`. */
export function fuzzSeedFromEnv(fallback: number): number {
  const raw = process.env.SIP_FUZZ_SEED;
  if (raw === undefined || raw === '') return fallback >>> 0;
  if (raw === 'random') return (Math.random() * 0x100000000) >>> 0;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`SIP_FUZZ_SEED must be a number or 'random', got ${raw}`);
  return n >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Corpus

export interface CorpusTemplate {
  /** File name without .sip, e.g. 'invite-sdp'. */
  readonly name: string;
  /** The template text, LF line ends, placeholders unresolved. */
  readonly text: string;
}

/** Values for a template's placeholders; CONTENT_LENGTH is computed. */
export interface TemplateVars {
  /** The engine's `host:port`. */
  target: string;
  /** The sender's `host:port`. */
  local: string;
  transport: 'UDP' | 'TCP';
  callId: string;
  branch: string;
  fromTag: string;
  toTag: string;
  cseq: number;
}

const CORPUS_DIR = resolve(fileURLToPath(new URL('../fixtures/sip-corpus', import.meta.url)));

/** Reads every *.sip template of the corpus (sorted by name, so the order is stable). */
export function loadCorpus(dir = CORPUS_DIR): CorpusTemplate[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sip'))
    .sort()
    .map((f) => ({ name: f.slice(0, -4), text: readFileSync(join(dir, f), 'utf8') }));
}

/**
 * Renders a template into a valid message: placeholders filled, CRLF line ends, Content-Length
 * the body's byte length. Returned as a latin1 string (one char per byte).
 */
export function renderTemplate(template: CorpusTemplate, vars: TemplateVars): string {
  const filled = template.text
    .replaceAll('{{TARGET}}', vars.target)
    .replaceAll('{{LOCAL}}', vars.local)
    .replaceAll('{{TRANSPORT}}', vars.transport)
    .replaceAll('{{transport}}', vars.transport.toLowerCase())
    .replaceAll('{{CALL_ID}}', vars.callId)
    .replaceAll('{{BRANCH}}', vars.branch)
    .replaceAll('{{FROM_TAG}}', vars.fromTag)
    .replaceAll('{{TO_TAG}}', vars.toTag)
    .replaceAll('{{CSEQ}}', String(vars.cseq))
    .replace(/\r?\n/g, '\r\n');
  const split = filled.indexOf('\r\n\r\n');
  const head = split < 0 ? filled : filled.slice(0, split);
  const body = split < 0 ? '' : filled.slice(split + 4);
  const bodyBytes = Buffer.byteLength(body, 'utf8');
  const text = `${head.replace('{{CONTENT_LENGTH}}', String(bodyBytes))}\r\n\r\n${body}`;
  return Buffer.from(text, 'utf8').toString('latin1');
}

// ---------------------------------------------------------------------------------------------
// Mutations

export const MUTATION_NAMES = [
  'byte-flip',
  'random-bytes',
  'truncate',
  'header-delete',
  'header-duplicate',
  'huge-value',
  'huge-number',
  'crlf-injection',
  'nul-injection',
  'content-length',
  'start-line',
  'multipart-boundary',
  'sdp-corruption',
  'header-syntax',
  'utf8',
] as const;

export type MutationName = (typeof MUTATION_NAMES)[number];

/** A mutation: latin1 message in, latin1 message out. Must never throw. */
type Mutation = (msg: string, rng: Prng, limits: MutationLimits) => string;

export interface MutationLimits {
  /** Largest message a mutation may produce (UDP: a datagram must fit, 65507 on IPv4). */
  maxBytes: number;
}

interface Parts {
  head: string[];
  /** '' when the message has no blank line. */
  body: string;
  hasBlank: boolean;
}

function split(msg: string): Parts {
  const i = msg.indexOf('\r\n\r\n');
  if (i < 0) return { head: msg.split('\r\n'), body: '', hasBlank: false };
  return { head: msg.slice(0, i).split('\r\n'), body: msg.slice(i + 4), hasBlank: true };
}

function join_(p: Parts): string {
  return p.hasBlank ? `${p.head.join('\r\n')}\r\n\r\n${p.body}` : p.head.join('\r\n');
}

function insertAt(s: string, pos: number, what: string): string {
  return s.slice(0, pos) + what + s.slice(pos);
}

/** Index of a random header line (not the start line), or -1. */
function headerIndex(p: Parts, rng: Prng, name?: RegExp): number {
  const candidates: number[] = [];
  for (let i = 1; i < p.head.length; i++) if (!name || name.test(p.head[i]!)) candidates.push(i);
  return candidates.length === 0 ? -1 : rng.pick(candidates);
}

const HEADER_NAMES = /^(via|v|from|f|to|t|call-id|i|cseq|contact|m|content-length|l|content-type|c|max-forwards|require|supported|session-expires|refer-to|event)\s*:/i;

const MUTATORS: Record<MutationName, Mutation> = {
  'byte-flip': (msg, rng) => {
    if (msg.length === 0) return msg;
    const chars = msg.split('');
    for (let n = rng.range(1, 8); n > 0; n--) {
      const i = rng.int(chars.length);
      chars[i] = String.fromCharCode(chars[i]!.charCodeAt(0) ^ (1 << rng.int(8)));
    }
    return chars.join('');
  },
  'random-bytes': (msg, rng) => {
    const len = rng.range(1, 64);
    const at = rng.int(msg.length + 1);
    return msg.slice(0, at) + rng.bytes(len) + msg.slice(Math.min(msg.length, at + (rng.chance(0.5) ? len : 0)));
  },
  truncate: (msg, rng) => msg.slice(0, rng.int(msg.length)),
  'header-delete': (msg, rng) => {
    const p = split(msg);
    const i = rng.chance(0.7) ? headerIndex(p, rng, HEADER_NAMES) : headerIndex(p, rng);
    if (i > 0) p.head.splice(i, 1);
    return join_(p);
  },
  'header-duplicate': (msg, rng) => {
    const p = split(msg);
    const i = rng.chance(0.7) ? headerIndex(p, rng, HEADER_NAMES) : headerIndex(p, rng);
    if (i > 0) {
      let line = p.head[i]!;
      // a duplicate with a different value is the interesting case (two Call-IDs, two Content-Lengths)
      if (rng.chance(0.5)) line = line.replace(/:.*/, `: ${rng.pick(['0', '99999', rng.token(12), '', '-1', '<sip:x@127.0.0.1>'])}`);
      const copies = rng.chance(0.9) ? 1 : rng.range(2, 200);
      p.head.splice(rng.range(1, p.head.length), 0, ...new Array<string>(copies).fill(line));
    }
    return join_(p);
  },
  'huge-value': (msg, rng, limits) => {
    const p = split(msg);
    const room = Math.max(0, limits.maxBytes - msg.length - 16);
    const size = Math.min(room, rng.chance(0.8) ? rng.range(1024, 8192) : rng.range(8192, 61440));
    const filler = rng.chance(0.5) ? rng.pick(['a', '9', ';', ',', '<', ' ', '%']).repeat(size) : rng.token(size);
    const i = headerIndex(p, rng);
    if (rng.chance(0.2) || i < 0) p.head[0] = p.head[0]!.replace(' ', ` sip:${filler}@`);
    else if (rng.chance(0.3)) p.head.splice(i, 0, `X-${rng.token(6)}: ${filler}`);
    else p.head[i] = `${p.head[i]!}${rng.pick([';p=', ' ', ',', ''])}${filler}`;
    return join_(p);
  },
  'huge-number': (msg, rng) => {
    const big = rng.pick(['4294967296', '4294967295', '18446744073709551616', '99999999999999999999999999', '-1', '2147483648', '1e10', '0x10', '00000000000000000000000001', 'NaN', '9'.repeat(400)]);
    const p = split(msg);
    const target = rng.pick([/^CSeq:/i, /^Max-Forwards:/i, /^Content-Length:/i, /^Session-Expires:/i, /^Min-SE:/i, /^Expires:/i]);
    const i = headerIndex(p, rng, target);
    if (i > 0) {
      if (/^CSeq:/i.test(p.head[i]!)) p.head[i] = p.head[i]!.replace(/\d+/, big);
      else p.head[i] = p.head[i]!.replace(/:.*/, `: ${big}`);
    } else p.head.splice(1, 0, `Expires: ${big}`);
    return join_(p);
  },
  'crlf-injection': (msg, rng) => {
    const what = rng.pick(['\r\n', '\r', '\n', '\r\n\r\n', '\n\n', '\r\r', '\r\nX-Injected: yes\r\n', '\r\n ', '\r\n\t']);
    const p = split(msg);
    const i = headerIndex(p, rng);
    if (i > 0 && rng.chance(0.7)) {
      const line = p.head[i]!;
      p.head[i] = insertAt(line, rng.int(line.length + 1), what);
      return join_(p);
    }
    return insertAt(msg, rng.int(msg.length + 1), what);
  },
  'nul-injection': (msg, rng) => {
    const nul = rng.chance(0.8) ? '\0' : '\0'.repeat(rng.range(2, 64));
    const p = split(msg);
    const i = headerIndex(p, rng);
    if (i > 0 && rng.chance(0.6)) {
      const line = p.head[i]!;
      p.head[i] = insertAt(line, rng.int(line.length + 1), nul);
      return join_(p);
    }
    return insertAt(msg, rng.int(msg.length + 1), nul);
  },
  'content-length': (msg, rng) => {
    const p = split(msg);
    const i = headerIndex(p, rng, /^(Content-Length|l)\s*:/i);
    const actual = Buffer.byteLength(p.body, 'latin1');
    const value = rng.pick([
      String(Math.max(0, actual - rng.range(1, 40))),
      String(actual + rng.range(1, 400)),
      String(actual + 70000),
      '-1',
      'twelve',
      '',
      ' 12 34',
      '0',
      `${actual};x`,
      '+5',
    ]);
    if (i < 0) p.head.splice(1, 0, `Content-Length: ${value}`);
    else if (rng.chance(0.15)) p.head.splice(i, 1);
    else if (rng.chance(0.15)) p.head.splice(i + 1, 0, `Content-Length: ${value}`);
    else p.head[i] = `Content-Length: ${value}`;
    return join_(p);
  },
  'start-line': (msg, rng) => {
    const p = split(msg);
    const line = p.head[0] ?? '';
    const parts = line.split(' ');
    switch (rng.int(10)) {
      case 0:
        parts[0] = rng.pick(['', 'INVITEX', 'invite', 'FOO', rng.token(rng.range(1, 40)), 'SIP/2.0', 'I NVITE', '\xff\xff\xff']);
        p.head[0] = parts.join(' ');
        break;
      case 1:
        parts[parts.length - 1] = rng.pick(['SIP/3.0', 'SIP/2', 'sip/2.0', 'HTTP/1.1', '', 'SIP/2.0 extra', 'SIP/2.00']);
        p.head[0] = parts.join(' ');
        break;
      case 2:
        parts[Math.min(1, parts.length - 1)] = rng.pick(['', 'sip:', 'sip:@', '<sip:a@b>', 'sip:a@[::1', 'sip:a@127.0.0.1:99999', 'tel:', '*', 'sip:a@b;;;;', 'sips:']);
        p.head[0] = parts.join(' ');
        break;
      case 3:
        p.head[0] = line.replaceAll(' ', rng.pick(['  ', '\t', '', ' \t ']));
        break;
      case 4:
        parts.splice(rng.int(parts.length), 1);
        p.head[0] = parts.join(' ');
        break;
      case 5:
        p.head[0] = rng.pick(['SIP/2.0 999 Odd', 'SIP/2.0 abc Bad', 'SIP/2.0 99 Low', 'SIP/2.0 200', 'SIP/2.0  OK', 'SIP/2.0 1000 Big']);
        break;
      case 6:
        p.head.unshift(rng.pick(['', ' ', 'garbage', '\0']));
        break;
      case 7:
        p.head[0] = line.toLowerCase();
        break;
      case 8:
        p.head[0] = `${line} ${rng.token(8)}`;
        break;
      default:
        p.head.shift();
    }
    return join_(p);
  },
  'multipart-boundary': (msg, rng) => {
    const m = /boundary=("?)([^";\r\n]+)\1/i.exec(msg);
    if (!m) return MUTATORS['content-length'](msg, rng, { maxBytes: Number.MAX_SAFE_INTEGER });
    const boundary = m[2]!;
    const choice = rng.int(7);
    if (choice === 0) return msg.replace(m[0], `boundary=${rng.token(10)}`);
    if (choice === 1) return msg.replace(m[0], rng.pick(['boundary=', 'boundary=""', 'boundary', `boundary=${boundary};boundary=x`, `boundary="${'b'.repeat(3000)}"`]));
    if (choice === 2) return msg.replace(`--${boundary}--`, '');
    if (choice === 3) return msg.replace(`--${boundary}\r\n`, `--${boundary}${rng.pick(['', 'x', ' ', '\r\n--'])}`);
    if (choice === 4) {
      const p = split(msg);
      p.body = p.body.replaceAll(`--${boundary}`, () => (rng.chance(0.5) ? `--${boundary}` : `--${rng.token(boundary.length)}`));
      return join_(p);
    }
    if (choice === 5) {
      const p = split(msg);
      p.body = `--${boundary}\r\n`.repeat(rng.range(2, 500)) + p.body;
      return join_(p);
    }
    return msg.replace(/Content-Type:\s*multipart\/mixed/i, rng.pick(['Content-Type: multipart/', 'Content-Type: multipart/mixed/x', 'Content-Type: application/sdp', 'Content-Type:']));
  },
  'sdp-corruption': (msg, rng) => {
    const p = split(msg);
    const lines = p.body.split('\r\n');
    const sdpLines: number[] = [];
    lines.forEach((l, i) => {
      if (/^[a-z]=/.test(l)) sdpLines.push(i);
    });
    if (sdpLines.length === 0) return MUTATORS['byte-flip'](msg, rng, { maxBytes: Number.MAX_SAFE_INTEGER });
    const i = rng.pick(sdpLines);
    const choice = rng.int(8);
    if (choice === 0) lines.splice(i, 1);
    else if (choice === 1) lines.splice(i, 0, ...new Array<string>(rng.range(1, 300)).fill(lines[i]!));
    else if (choice === 2) lines[i] = lines[i]!.replace(/\d+/, rng.pick(['99999', '-1', '4294967296', '', 'x']));
    else if (choice === 3) lines[i] = rng.pick(['m=audio', 'm=', 'c=IN IP4', 'c=IN IP6 ::ffff:zz', 'o=', 'v=9', 'm=audio 0 RTP/AVP', 'a=rtpmap:', 'a=rtpmap:999 X/0', 't=a b']);
    else if (choice === 4) lines[i] = `${lines[i]!}${'0 '.repeat(rng.range(100, 2000))}`;
    else if (choice === 5) lines.splice(i, 0, `m=audio ${rng.range(0, 70000)} RTP/AVP ${rng.range(0, 300)}`);
    else if (choice === 6) lines[i] = lines[i]!.replace('=', rng.pick([' = ', '', '==', ':']));
    else lines[i] = `${lines[i]!.slice(0, 2)}${rng.bytes(rng.range(1, 40))}`;
    p.body = lines.join('\r\n');
    return join_(p);
  },
  'header-syntax': (msg, rng) => {
    const p = split(msg);
    const i = headerIndex(p, rng);
    if (i < 0) return msg;
    const line = p.head[i]!;
    const choice = rng.int(7);
    if (choice === 0) p.head[i] = line.replace(':', '');
    else if (choice === 1) p.head[i] = line.replace(':', ' :');
    else if (choice === 2) p.head[i] = line.replace(/^[^:]*/, '');
    else if (choice === 3) p.head[i] = line.replace(/:\s*/, ':\r\n ');
    else if (choice === 4) p.head[i] = line.replace(/^[^:]*/, (n) => ({ via: 'v', from: 'f', to: 't', 'call-id': 'i', contact: 'm', 'content-length': 'l', 'content-type': 'c' })[n.toLowerCase()] ?? n.toUpperCase());
    else if (choice === 5) p.head[i] = ` ${line}`;
    else p.head[i] = line.replace(/[<>]/g, '');
    return join_(p);
  },
  utf8: (msg, rng) => {
    const seq = rng.pick(['\xc3\x28', '\xa0\xa1', '\xe2\x28\xa1', '\xf0\x28\x8c\xbc', '\xff\xfe', '\xed\xa0\x80', '\xc3\xa9', '\xe2\x82\xac', '\xf0\x9f\x98\x80', '\xef\xbb\xbf']);
    const p = split(msg);
    const i = headerIndex(p, rng);
    if (i > 0 && rng.chance(0.7)) {
      const line = p.head[i]!;
      p.head[i] = insertAt(line, rng.int(line.length + 1), seq.repeat(rng.range(1, 4)));
      return join_(p);
    }
    return insertAt(msg, rng.int(msg.length + 1), seq);
  },
};

/** Applies one named mutation; never throws (a mutation that fails returns the input). */
export function mutate(name: MutationName, msg: string, rng: Prng, limits: MutationLimits): string {
  try {
    const out = MUTATORS[name](msg, rng, limits);
    return out.length > limits.maxBytes ? out.slice(0, limits.maxBytes) : out;
  } catch {
    return msg;
  }
}

// ---------------------------------------------------------------------------------------------
// The fuzzer

export interface FuzzVariant {
  readonly index: number;
  readonly template: string;
  readonly mutations: MutationName[];
  /** The bytes to send. */
  readonly data: Buffer;
  /** The ids the variant was rendered with (before mutation). */
  readonly vars: TemplateVars;
}

export interface SipFuzzerOptions {
  seed: number;
  corpus: readonly CorpusTemplate[];
  /** Largest variant, bytes. Default 65000 (fits a UDP datagram). */
  maxBytes?: number;
  /** Share of variants sent unmutated, as controls. Default 0.05. */
  validShare?: number;
  /** Most mutations stacked on one variant. Default 4. */
  maxMutations?: number;
}

/** Generates variant `i` of a seed from (seed, i) alone. */
export class SipFuzzer {
  readonly seed: number;
  readonly #corpus: readonly CorpusTemplate[];
  readonly #limits: MutationLimits;
  readonly #validShare: number;
  readonly #maxMutations: number;

  constructor(options: SipFuzzerOptions) {
    if (options.corpus.length === 0) throw new Error('the fuzzer needs a non-empty corpus');
    this.seed = options.seed >>> 0;
    this.#corpus = options.corpus;
    this.#limits = { maxBytes: options.maxBytes ?? 65000 };
    this.#validShare = options.validShare ?? 0.05;
    this.#maxMutations = options.maxMutations ?? 4;
  }

  /**
   * Variant `index`: a template picked by the PRNG (or `templateName`), rendered with ids unique to
   * the index, then mutated. `addressing` gives the target, the sender and the transport.
   */
  variant(
    index: number,
    addressing: Pick<TemplateVars, 'target' | 'local' | 'transport'>,
    templateName?: string,
    /** Ids to use instead of the generated ones (e.g. a live dialog's Call-ID and tags for in-dialog
     *  templates); called with the template name, after the PRNG drew its values, so variants stay reproducible. */
    override?: (template: string) => Partial<Pick<TemplateVars, 'callId' | 'fromTag' | 'toTag'>> | undefined,
  ): FuzzVariant {
    const rng = new Prng(variantSeed(this.seed, index));
    const template = templateName !== undefined ? this.#corpus.find((t) => t.name === templateName) : rng.pick(this.#corpus);
    if (!template) throw new Error(`no corpus template named ${templateName}`);
    const tag = `${this.seed.toString(16)}-${index}`;
    const vars: TemplateVars = {
      ...addressing,
      callId: `fuzz-${tag}-${rng.token(8)}`,
      branch: `z9hG4bK-fuzz-${tag}-${rng.token(6)}`,
      fromTag: `f${rng.token(8)}`,
      toTag: `t${rng.token(8)}`,
      cseq: rng.range(1, 9999),
    };
    Object.assign(vars, override?.(template.name) ?? {});
    let msg = renderTemplate(template, vars);
    const mutations: MutationName[] = [];
    if (!rng.chance(this.#validShare)) {
      for (let n = rng.range(1, this.#maxMutations); n > 0; n--) {
        const name = rng.pick(MUTATION_NAMES);
        mutations.push(name);
        msg = mutate(name, msg, rng, this.#limits);
      }
    }
    return { index, template: template.name, mutations, data: Buffer.from(msg, 'latin1'), vars };
  }

  /** A one-line description for logs and failure messages. */
  describe(v: FuzzVariant): string {
    return `seed=${this.seed} index=${v.index} template=${v.template} mutations=[${v.mutations.join(',')}] bytes=${v.data.length}`;
  }
}

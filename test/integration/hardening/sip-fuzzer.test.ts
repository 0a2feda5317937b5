/**
 * The fuzzer itself (test/support/sip-fuzzer.ts): the corpus is valid, variants are reproducible
 * from (seed, index) alone, and every mutation really changes messages. Pure, no sockets.
 */
import { describe, expect, it } from 'vitest';
import { getHeader, parseSipMessage } from '../../../src/engine/sip-message.js';
import { parseSiprecBody } from '../../../src/siprec/multipart.js';
import { MUTATION_NAMES, Prng, SipFuzzer, loadCorpus, mutate, renderTemplate, type TemplateVars } from '../../support/sip-fuzzer.js';

const VARS: TemplateVars = {
  target: '127.0.0.1:31000',
  local: '127.0.0.1:31010',
  transport: 'UDP',
  callId: 'corpus-call-1',
  branch: 'z9hG4bK-corpus-1',
  fromTag: 'ftag1',
  toTag: 'ttag1',
  cseq: 7,
};
const corpus = loadCorpus();

describe('SIP fuzz corpus (test/fixtures/sip-corpus)', () => {
  it('holds INVITE with SDP, a SIPREC multipart INVITE, BYE, INFO with DTMF, REFER and more', () => {
    const names = corpus.map((t) => t.name);
    for (const n of ['invite-sdp', 'invite-siprec-multipart', 'bye', 'info-dtmf', 'refer', 'options', 'cancel', 'ack', 'response-180']) expect(names).toContain(n);
  });

  for (const template of corpus) {
    it(`${template.name} renders to a valid message with an exact Content-Length, over UDP and TCP framing`, () => {
      for (const transport of ['UDP', 'TCP'] as const) {
        const text = renderTemplate(template, { ...VARS, transport });
        expect(text).not.toMatch(/\{\{/);
        expect(text).not.toMatch(/[^\r]\n/);
        const buf = Buffer.from(text, 'latin1');
        const parsed = parseSipMessage(buf, { stream: transport === 'TCP' });
        expect(parsed.ok, parsed.ok ? '' : parsed.error).toBe(true);
        if (!parsed.ok) continue;
        const body = buf.subarray(buf.indexOf('\r\n\r\n') + 4);
        expect(Number(getHeader(parsed.msg, 'content-length'))).toBe(body.length);
        expect(getHeader(parsed.msg, 'call-id')).toBe(VARS.callId);
      }
    });
  }

  it('the SIPREC INVITE carries an SDP part and a metadata part (RFC 7866 section 9)', () => {
    const text = renderTemplate(corpus.find((t) => t.name === 'invite-siprec-multipart')!, VARS);
    const parsed = parseSipMessage(Buffer.from(text, 'latin1'));
    if (!parsed.ok) throw new Error(parsed.error);
    const body = parseSiprecBody(getHeader(parsed.msg, 'content-type'), parsed.msg.body);
    expect(body.sdp).toContain('m=audio');
    expect(body.metadata).toContain('<recording');
  });
});

describe('SIP fuzzer', () => {
  const addressing = { target: VARS.target, local: VARS.local, transport: 'UDP' as const };

  it('mulberry32 is deterministic per seed and spreads values over [0, 1)', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    expect(new Prng(43).next()).not.toBe(new Prng(42).next());
  });

  it('variant i depends on (seed, i) alone: generating others first changes nothing', () => {
    const f1 = new SipFuzzer({ seed: 1234, corpus });
    const f2 = new SipFuzzer({ seed: 1234, corpus });
    for (let i = 0; i < 50; i++) f2.variant(i, addressing);
    expect(f2.variant(777, addressing).data.equals(f1.variant(777, addressing).data)).toBe(true);
    expect(new SipFuzzer({ seed: 1235, corpus }).variant(777, addressing).data.equals(f1.variant(777, addressing).data)).toBe(false);
  });

  it('every mutation changes most messages, never throws and respects the size limit', () => {
    const rng = new Prng(99);
    for (const name of MUTATION_NAMES) {
      let changed = 0;
      for (let i = 0; i < 60; i++) {
        const template = corpus[i % corpus.length]!;
        const text = renderTemplate(template, VARS);
        const out = mutate(name, text, rng, { maxBytes: 4096 });
        expect(out.length).toBeLessThanOrEqual(4096);
        if (out !== text) changed++;
      }
      expect(changed, name).toBeGreaterThan(40);
    }
  });

  it('produces mostly messages the engine parser rejects, using every template and mutation', () => {
    const fuzzer = new SipFuzzer({ seed: 7, corpus });
    const templates = new Set<string>();
    const mutations = new Set<string>();
    let rejected = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const v = fuzzer.variant(i, addressing);
      templates.add(v.template);
      for (const m of v.mutations) mutations.add(m);
      expect(v.data.length).toBeLessThanOrEqual(65000);
      if (!parseSipMessage(v.data).ok) rejected++;
    }
    expect(templates.size).toBe(corpus.length);
    expect(mutations.size).toBe(MUTATION_NAMES.length);
    expect(rejected / n).toBeGreaterThan(0.3);
    expect(rejected / n).toBeLessThan(0.95);
  });
});

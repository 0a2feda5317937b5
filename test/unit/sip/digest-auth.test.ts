import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import {
  DigestAuthenticator,
  digestHa1,
  digestResponse,
  identityAllowed,
  isStaleFailure,
  parseCredentials,
  type DigestAuthOptions,
} from '../../../src/sip/digest-auth.js';
import { parseDigestCredentials } from '../../../src/sip/digest-credentials-file.js';
import { FakeClock } from '../../fakes/fake-clock.js';

const REALM = 'acme.example';
const RURI = 'sip:2002@b2bua.acme.example:5060';

/** Independent of the module: RFC 7616 section 3.4.1 written out with node:crypto. */
function h(alg: 'md5' | 'sha256', s: string): string {
  return createHash(alg).update(s).digest('hex');
}

function answer(
  challenge: string,
  o: { user?: string; password?: string; realm?: string; uri?: string; method?: string; nc?: string; cnonce?: string; qop?: boolean; alg?: 'MD5' | 'SHA-256'; extra?: string } = {},
): string {
  const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
  const alg = o.alg ?? (/algorithm=([\w-]+)/.exec(challenge)![1] as 'MD5' | 'SHA-256');
  const hf = alg === 'MD5' ? 'md5' : 'sha256';
  const user = o.user ?? 'alice';
  const realm = o.realm ?? REALM;
  const uri = o.uri ?? RURI;
  const ha1 = h(hf, `${user}:${realm}:${o.password ?? 'wonderland'}`);
  const ha2 = h(hf, `${o.method ?? 'INVITE'}:${uri}`);
  const nc = o.nc ?? '00000001';
  const cnonce = o.cnonce ?? '0a4f113b';
  const qop = o.qop ?? true;
  const response = qop ? h(hf, `${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`) : h(hf, `${ha1}:${nonce}:${ha2}`);
  const parts = [`username="${user}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${uri}"`, `response="${response}"`, `algorithm=${alg}`];
  if (qop) parts.push('qop=auth', `nc=${nc}`, `cnonce="${cnonce}"`);
  if (o.extra) parts.push(o.extra);
  return `Digest ${parts.join(', ')}`;
}

function make(o: Partial<DigestAuthOptions> = {}, clock = new FakeClock()): { auth: DigestAuthenticator; clock: FakeClock } {
  const auth = new DigestAuthenticator(
    {
      realm: REALM,
      users: [
        { username: 'alice', password: 'wonderland', identities: ['alice', '+15550002001'] },
        { username: 'bob', ha1Md5: h('md5', `bob:${REALM}:builder`), ha1Sha256: h('sha256', `bob:${REALM}:builder`) },
      ],
      algorithms: ['SHA-256', 'MD5'],
      ...o,
    },
    clock,
  );
  return { auth, clock };
}

const verify = (auth: DigestAuthenticator, authorization: string | undefined, requestUri = RURI, method = 'INVITE') =>
  auth.verify({ method, requestUri, authorization });

describe('digest response (RFC 7616 section 3.9.1 golden vectors)', () => {
  const rfc = { nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', method: 'GET', uri: '/dir/index.html', qop: 'auth' as const, nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };

  it('MUST compute the RFC 7616 MD5 example response', () => {
    const ha1 = digestHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    expect(digestResponse('MD5', { ha1, ...rfc })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('MUST compute the RFC 7616 SHA-256 example response', () => {
    const ha1 = digestHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    expect(digestResponse('SHA-256', { ha1, ...rfc })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('MUST compute the response SIPp 3.6.1 sent for a SIP INVITE (uri without user part)', () => {
    // captured from `sipp -au alice -ap secret` answering realm="r.example", nonce="abc123", qop="auth", algorithm=MD5
    const ha1 = digestHa1('MD5', 'alice', 'r.example', 'secret');
    expect(digestResponse('MD5', { ha1, nonce: 'abc123', method: 'INVITE', uri: 'sip:127.0.0.1:30590', qop: 'auth', nc: '00000001', cnonce: '6b8b4567' })).toBe(
      '40f64597c025d964a416e0a9240e675c',
    );
  });
});

describe('digest challenge', () => {
  it('MUST offer one challenge per configured algorithm, preferred first, with realm, a fresh nonce, qop="auth"', () => {
    const { auth } = make();
    const [sha, md5] = auth.challenges();
    expect(sha).toMatch(/^Digest realm="acme\.example", nonce="[A-Za-z0-9_-]{43}", algorithm=SHA-256, qop="auth"$/);
    expect(md5).toMatch(/algorithm=MD5/);
    expect(/nonce="([^"]+)"/.exec(sha!)![1]).not.toBe(/nonce="([^"]+)"/.exec(md5!)![1]);
    expect(auth.challenges({ stale: true })[0]).toContain('stale=true');
    expect(make({ opaque: 'xyz' }).auth.challenges()[0]).toContain('opaque="xyz"');
  });

  it('MUST default to MD5 only (what SIPp 3.6.1 answers) and a 300 s nonce lifetime', () => {
    const clock = new FakeClock();
    const auth = new DigestAuthenticator({ realm: REALM, users: [{ username: 'alice', password: 'wonderland' }] }, clock);
    const challenges = auth.challenges();
    expect(challenges).toHaveLength(1);
    expect(challenges[0]).toContain('algorithm=MD5');
    clock.advance(299_000);
    expect(verify(auth, answer(challenges[0]!)).ok).toBe(true);
    const next = auth.challenges()[0]!;
    clock.advance(300_001);
    expect(verify(auth, answer(next))).toEqual({ ok: false, reason: 'stale' });
  });
});

describe('digest verification', () => {
  it('MUST accept a correct SHA-256 response (RFC 8760) computed independently, with the user and identities', () => {
    const { auth } = make();
    const v = verify(auth, answer(auth.challenges()[0]!));
    expect(v).toEqual({ ok: true, username: 'alice', identities: ['alice', '+15550002001'], algorithm: 'SHA-256' });
  });

  it('MUST accept a correct MD5 response, and HA1s given instead of a password', () => {
    const { auth } = make();
    const md5 = auth.challenges()[1]!;
    expect(verify(auth, answer(md5))).toMatchObject({ ok: true, algorithm: 'MD5' });
    expect(verify(auth, answer(auth.challenges()[0]!, { user: 'bob', password: 'builder' }))).toMatchObject({ ok: true, username: 'bob', identities: ['bob'] });
    expect(verify(auth, answer(auth.challenges()[1]!, { user: 'bob', password: 'builder' }))).toMatchObject({ ok: true, username: 'bob' });
  });

  it('MUST accept the legacy RFC 2069 form without qop, once per nonce', () => {
    const { auth } = make();
    const c = auth.challenges()[1]!;
    expect(verify(auth, answer(c, { qop: false }))).toMatchObject({ ok: true });
    expect(verify(auth, answer(c, { qop: false }))).toEqual({ ok: false, reason: 'replay' });
  });

  it('MUST accept the digest uri without user part (SIPp) and refuse one naming another resource', () => {
    const { auth } = make();
    expect(verify(auth, answer(auth.challenges()[0]!, { uri: 'sip:b2bua.acme.example' }))).toMatchObject({ ok: true });
    expect(verify(auth, answer(auth.challenges()[0]!, { uri: 'sip:B2BUA.acme.example:5060' }))).toMatchObject({ ok: true });
    expect(verify(auth, answer(auth.challenges()[0]!, { uri: 'sip:2003@b2bua.acme.example' }))).toEqual({ ok: false, reason: 'uri-mismatch' });
    expect(verify(auth, answer(auth.challenges()[0]!, { uri: 'sip:2002@other.example' }))).toEqual({ ok: false, reason: 'uri-mismatch' });
    expect(verify(auth, answer(auth.challenges()[0]!, { uri: 'sip:2002@b2bua.acme.example:5070' }))).toEqual({ ok: false, reason: 'uri-mismatch' });
  });

  it('MUST refuse a wrong password, a response for another method, and an unknown user, naming the user (lockout counting)', () => {
    const { auth } = make();
    expect(verify(auth, answer(auth.challenges()[0]!, { password: 'guess' }))).toEqual({ ok: false, reason: 'bad-response', username: 'alice' });
    expect(verify(auth, answer(auth.challenges()[0]!, { method: 'REGISTER' }))).toEqual({ ok: false, reason: 'bad-response', username: 'alice' });
    expect(verify(auth, answer(auth.challenges()[0]!, { user: 'mallory' }))).toEqual({ ok: false, reason: 'unknown-user', username: 'mallory' });
  });

  it('MUST answer a missing header with missing, another realm with wrong-realm, and an unoffered algorithm or qop as such', () => {
    const { auth } = make();
    expect(verify(auth, undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(verify(auth, '  ')).toEqual({ ok: false, reason: 'missing' });
    expect(verify(auth, answer(auth.challenges()[0]!, { realm: 'evil.example' }))).toEqual({ ok: false, reason: 'wrong-realm' });
    const md5Only = make({ algorithms: ['MD5'] }).auth;
    expect(verify(md5Only, answer(md5Only.challenges()[0]!, { alg: 'SHA-256' }))).toEqual({ ok: false, reason: 'unsupported-algorithm' });
    expect(verify(auth, answer(auth.challenges()[0]!).replace('qop=auth', 'qop=auth-int'))).toEqual({ ok: false, reason: 'unsupported-qop' });
  });

  it('MUST refuse a tampered nonce, a nonce of another process, and a nonce from the future', () => {
    const { auth, clock } = make();
    const c = auth.challenges()[0]!;
    const nonce = /nonce="([^"]+)"/.exec(c)![1]!;
    const flipped = nonce.slice(0, 5) + (nonce[5] === 'A' ? 'B' : 'A') + nonce.slice(6);
    expect(verify(auth, answer(c.replace(nonce, flipped)))).toEqual({ ok: false, reason: 'bad-nonce' });
    expect(verify(auth, answer(c.replace(nonce, 'abc123')))).toEqual({ ok: false, reason: 'bad-nonce' });
    const other = make({}, clock).auth; // another process: another secret
    expect(verify(other, answer(c))).toEqual({ ok: false, reason: 'bad-nonce' });
    const later = new FakeClock();
    later.advance(60_000);
    const fromFuture = make({ secret: Buffer.alloc(32, 7) }, later).auth.challenges()[0]!;
    expect(verify(make({ secret: Buffer.alloc(32, 7) }, new FakeClock()).auth, answer(fromFuture))).toEqual({ ok: false, reason: 'bad-nonce' });
  });

  it('MUST report an expired nonce as stale (only with the right password) so the next challenge says stale=true', () => {
    const { auth, clock } = make({ nonceSeconds: 30 });
    const c = auth.challenges()[0]!;
    clock.advance(30_001);
    const v = verify(auth, answer(c));
    expect(v).toEqual({ ok: false, reason: 'stale' });
    expect(isStaleFailure('stale')).toBe(true);
    expect(verify(auth, answer(c, { password: 'guess' }))).toEqual({ ok: false, reason: 'bad-response', username: 'alice' });
  });

  it('MUST refuse a replayed nc and accept increasing ones on the same nonce', () => {
    const { auth } = make();
    const c = auth.challenges()[0]!;
    expect(verify(auth, answer(c, { nc: '00000001' })).ok).toBe(true);
    expect(verify(auth, answer(c, { nc: '00000001' }))).toEqual({ ok: false, reason: 'replay' });
    expect(verify(auth, answer(c, { nc: '00000002', cnonce: 'ff01' })).ok).toBe(true);
    expect(verify(auth, answer(c, { nc: '00000002', cnonce: 'ff02' }))).toEqual({ ok: false, reason: 'replay' });
    expect(isStaleFailure('replay')).toBe(true);
  });

  it('MUST keep the nc table bounded and never accept a replay of a forgotten nonce (stale instead)', () => {
    const { auth, clock } = make({ maxTrackedNonces: 3 });
    const first = auth.challenges()[0]!;
    expect(verify(auth, answer(first)).ok).toBe(true);
    for (let i = 0; i < 5; i++) {
      clock.advance(10);
      expect(verify(auth, answer(auth.challenges()[0]!)).ok).toBe(true);
    }
    expect(auth.trackedNonces).toBe(3);
    expect(verify(auth, answer(first))).toEqual({ ok: false, reason: 'stale' });
    expect(verify(auth, answer(first, { nc: '00000009' }))).toEqual({ ok: false, reason: 'stale' });
    // nonces issued after the forgotten ones still work
    clock.advance(10);
    expect(verify(auth, answer(auth.challenges()[0]!)).ok).toBe(true);
  });

  it('MUST require the opaque value back when one is configured', () => {
    const { auth } = make({ opaque: 'k1' });
    const c = auth.challenges()[0]!;
    expect(verify(auth, answer(c))).toEqual({ ok: false, reason: 'bad-opaque' });
    expect(verify(auth, answer(c, { extra: 'opaque="k1"' })).ok).toBe(true);
  });

  it('MUST pick our credentials by realm among several, and parse case-insensitive names, spaces and escaped quotes', () => {
    const { auth } = make();
    const ours = answer(auth.challenges()[0]!);
    expect(verify(auth, `Digest username="x", realm="other.example", nonce="n", uri="sip:a", response="00", ${ours}`).ok).toBe(true);
    const shouty = answer(auth.challenges()[0]!).replace('username=', 'UserName = ').replace('realm=', 'REALM=');
    expect(verify(auth, `digest ${shouty.slice('Digest '.length)}`).ok).toBe(true);
    expect(parseCredentials('Digest realm="a, b=\\"c\\"", nonce=x')).toEqual([{ scheme: 'digest', params: new Map([['realm', 'a, b="c"'], ['nonce', 'x']]) }]);
  });

  it('never throws on malformed headers (and answers malformed)', () => {
    const { auth } = make();
    const c = answer(auth.challenges()[0]!);
    const bad = [
      'Digest',
      'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
      'Digest username="alice", realm="acme.example", nonce="unterminated',
      'Digest username="alice",, realm="acme.example"',
      'Digest =x',
      'Digest username="alice" realm="acme.example"',
      c.replace(/response="[^"]+"/, ''),
      c.replace('nc=00000001', 'nc=1'),
      c.replace('nc=00000001', 'nc=00000000'),
      c.replace(/cnonce="[^"]+"/, 'cnonce=""'),
      `${c}, username="twice"`,
      'Digest realm="acme.example", ' + 'a=b, '.repeat(3000) + 'c=d',
      '\u0000\uffff"\\',
      ',,,',
    ];
    for (const header of bad) {
      const v = verify(auth, header);
      expect(v.ok, header.slice(0, 80)).toBe(false);
      expect(['malformed', 'wrong-realm', 'missing'], header.slice(0, 80)).toContain((v as { reason: string }).reason);
    }
    expect(verify(auth, c, 'not a uri')).toEqual({ ok: false, reason: 'uri-mismatch' });
    expect(auth.verify({ method: 'INVITE', requestUri: RURI, authorization: 42 as unknown as string })).toEqual({ ok: false, reason: 'malformed' });
    expect(auth.verify(null as unknown as { method: string; requestUri: string; authorization: string })).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('digest configuration', () => {
  it('MUST refuse a bad realm, algorithm, lifetime, duplicate user, bad HA1 or a user without credentials for an algorithm', () => {
    const bad: Array<Partial<DigestAuthOptions>> = [
      { realm: '' },
      { realm: 'a"b' },
      { algorithms: [] },
      { algorithms: ['SHA-512' as 'MD5'] },
      { algorithms: ['MD5', 'MD5'] },
      { nonceSeconds: 0 },
      { users: [{ username: 'a', password: 'x' }, { username: 'a', password: 'y' }] },
      { users: [{ username: 'a', ha1Md5: 'xyz' }], algorithms: ['MD5'] },
      { users: [{ username: 'a', ha1Md5: h('md5', 'a') }], algorithms: ['SHA-256'] },
      { users: [{ username: 'a', password: 'x', identities: [] }] },
    ];
    for (const o of bad) {
      let caught: unknown;
      try {
        make(o);
      } catch (err) {
        caught = err;
      }
      expect(isAppError(caught, 'CONFIG_INVALID'), JSON.stringify(o)).toBe(true);
    }
  });

  it('MUST read the credentials file (YAML or JSON) without quoting its content in errors', () => {
    expect(parseDigestCredentials('users:\n  - username: alice\n    password: s3cret\n    identities: [alice, "+1555"]\n', 'users.yaml')).toEqual([
      { username: 'alice', password: 's3cret', identities: ['alice', '+1555'] },
    ]);
    expect(parseDigestCredentials('{"users":[{"username":"bob","ha1Md5":"00"}]}', 'users.json')).toEqual([{ username: 'bob', ha1Md5: '00' }]);
    for (const [text, name] of [
      ['users: [ {username: alice, password: "s3cret-leak', 'u.yaml'],
      ['{"users": [{"password": "s3cret-leak"', 'u.json'],
      ['people: []', 'u.yaml'],
      ['users:\n  - username: a\n    pasword: s3cret-leak\n', 'u.yaml'],
    ] as const) {
      let caught: unknown;
      try {
        parseDigestCredentials(text, name);
      } catch (err) {
        caught = err;
      }
      expect(isAppError(caught, 'CONFIG_INVALID')).toBe(true);
      expect((caught as Error).message).not.toContain('s3cret');
    }
  });
});

describe('caller identity of an authenticated user', () => {
  it('MUST allow a From whose user part (or URI) is one of the identities and refuse others', () => {
    const ids = ['alice', '+15550002001', 'sip:boss@acme.example', 'tel:+15550009999'];
    expect(identityAllowed(ids, '<sip:alice@acme.example>;tag=1')).toBe(true);
    expect(identityAllowed(ids, '"Alice" <sip:+15550002001@10.0.0.1>;tag=1')).toBe(true);
    expect(identityAllowed(ids, '<sip:boss@ACME.example:5060>;tag=1')).toBe(true);
    expect(identityAllowed(ids, '<sip:boss@evil.example>;tag=1')).toBe(false);
    expect(identityAllowed(ids, '<sip:+15550009999@carrier.example;user=phone>')).toBe(true);
    expect(identityAllowed(ids, '<sip:bob@acme.example>;tag=1')).toBe(false);
    expect(identityAllowed(ids, '<sip:acme.example>')).toBe(false);
    expect(identityAllowed(ids, '')).toBe(false);
  });
});

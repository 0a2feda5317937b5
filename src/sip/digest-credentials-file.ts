/**
 * Reads the digest credentials file (calls.digestCredentialsFile, YAML or JSON) once at start:
 *
 *   users:
 *     - username: alice
 *       password: secret                 # or, so that no password is stored:
 *       ha1Md5: 0123...                  #   hex MD5(username:realm:password), 32 hex digits
 *       ha1Sha256: 0123...               #   hex SHA-256(username:realm:password), 64 hex digits
 *       identities: [alice, '+15550002001', 'sip:alice@acme.example']   # default [username]
 *
 * The entries are checked by DigestAuthenticator (src/sip/digest-auth.ts). Errors are AppError
 * CONFIG_INVALID naming the file and, for a syntax error, the line; they never quote the content.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { AppError } from '../common/errors.js';
import type { DigestUser } from './digest-auth.js';

export function readDigestCredentialsFile(path: string): DigestUser[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AppError('CONFIG_INVALID', `cannot read the digest credentials file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseDigestCredentials(text, path);
}

/** Parses the file's text; `name` only names it in errors. */
export function parseDigestCredentials(text: string, name: string): DigestUser[] {
  let parsed: unknown;
  try {
    parsed = name.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    // the parsers' messages quote the offending text: say where only
    const line = (err as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    throw new AppError('CONFIG_INVALID', `the digest credentials file ${name} is not valid ${name.endsWith('.json') ? 'JSON' : 'YAML'}${line ? ` (line ${line})` : ''}`);
  }
  const users = (parsed as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) throw new AppError('CONFIG_INVALID', `the digest credentials file ${name} needs a 'users' list`);
  for (const [i, u] of users.entries()) {
    if (u === null || typeof u !== 'object' || Array.isArray(u)) throw new AppError('CONFIG_INVALID', `${name}: users[${i}] is not an object`);
    const unknown = Object.keys(u as object).filter((k) => !['username', 'password', 'ha1Md5', 'ha1Sha256', 'identities'].includes(k));
    if (unknown.length > 0) throw new AppError('CONFIG_INVALID', `${name}: users[${i}] has unknown keys ${unknown.join(', ')}`);
  }
  return users as DigestUser[];
}

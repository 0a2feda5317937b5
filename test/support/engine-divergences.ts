/**
 * Where the embedded engine and drachtio-server behave differently, on purpose or through a weakness
 * of one of them. Each id is a heading in docs/engine.md ("Divergences from drachtio-server") that
 * gives the behaviour, the RFC text, what each server does and why; the conformance files assert the
 * side of the server under test through `expectedOn`, and nowhere else branch on the server.
 * test/unit/engine/engine-divergences.test.ts keeps this list, the doc and the tests in step.
 */
import type { EngineHarness } from './engine-harness.js';

export const DIVERGENCES = {
  'unknown-dialog': 'an in-dialog request whose To-tag matches no dialog',
  'message-size-limit': 'the largest SIP message taken',
  'bad-header-bytes': 'NUL and bare CR bytes inside a header value',
  'crlf-keepalive-then-request': 'a CRLF keep-alive and a request in one TCP read',
  'invite-retransmit-interval': 'when a client INVITE is first retransmitted over UDP',
  'dialog-timers-from-t1': 'the ACK wait of a 2xx (Timer H) and the proxy timers',
  'proxy-final-timeout': "the proxy's finalTimeout (Timer C)",
  'in-dialog-route-relay': 'an in-dialog request that merely names the server in its Route',
  'refer-outside-dialog': 'a REFER outside any dialog',
  'final-notify-answer': 'the answer to a NOTIFY that ends the subscription',
  'notify-before-2xx': "a NOTIFY that overtakes the 2xx to the app's SUBSCRIBE",
  'subscription-expiry': 'a subscription neither refreshed nor ended past its Expires',
} as const;

export type DivergenceId = keyof typeof DIVERGENCES;

/** The value a conformance test expects from the server under test at a listed divergence. */
export function expectedOn<T>(harness: Pick<EngineHarness, 'mode'>, _id: DivergenceId, expected: { engine: T; drachtio: T }): T {
  return harness.mode === 'embedded' ? expected.engine : expected.drachtio;
}

import { parseSrsAnswer, type AnsweredStream } from '../srs-answer.js';
import { RECORDING_LABELS } from './recording-request.js';
import type { RecordingRtpTarget, RecordingRtpTargets } from './recording-session-types.js';

/**
 * What the recording server's SDP means for the media plane: the RTP targets of labels 1 and 2
 * (RFC 7866 section 8.1.1: the SRS answers each labelled stream). Pure.
 */

/** The two RTP targets of an SRS answer; throws when nothing usable was accepted, or SRTP is required and a stream lacks keys. */
export function targetsFromAnswer(sdp: string, srtp: boolean): RecordingRtpTargets {
  const streams = parseSrsAnswer(sdp, RECORDING_LABELS);
  if (!streams.some((s) => s.accepted)) throw new Error('the recording server accepted no stream');
  if (srtp && streams.some((s) => s.accepted && s.crypto === undefined)) {
    throw new Error('SRTP required but the answer has no a=crypto (R-42)');
  }
  return { label1: rtpTarget(streams[0]!), label2: rtpTarget(streams[1]!) };
}

function rtpTarget(s: AnsweredStream): RecordingRtpTarget {
  return {
    label: s.label,
    accepted: s.accepted,
    address: s.address,
    port: s.accepted ? s.port : 0,
    rtcpPort: s.rtcpPort,
    payloadType: s.payloadType,
    telephoneEventPayloadType: s.telephoneEventPayloadType,
    remoteCrypto: s.crypto,
  };
}

/** Do `a` and `b` send the media to the same places with the same payload type? (undefined `a`: no) */
export function sameTargets(a: RecordingRtpTargets | undefined, b: RecordingRtpTargets): boolean {
  if (!a) return false;
  const eq = (x: RecordingRtpTarget, y: RecordingRtpTarget): boolean =>
    x.accepted === y.accepted && x.address === y.address && x.port === y.port && x.payloadType === y.payloadType;
  return eq(a.label1, b.label1) && eq(a.label2, b.label2);
}

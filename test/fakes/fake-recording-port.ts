/** A RecordingPort the test drives: records every call; `establish()` / `fail()` emit the events. */
import { TypedEmitter } from '../../src/common/typed-emitter.js';
import type {
  AnnouncementNote,
  MediaProblemNote,
  RecordingFailureNote,
  RecordingParticipant,
  RecordingPort,
  RecordingPortEvents,
  RecordingPortFactory,
  RecordingStartRequest,
} from '../../src/call/call-ports.js';
import type { RecordingLink } from '../../src/call/recording-link.js';

export class FakeRecordingPort extends TypedEmitter<RecordingPortEvents> implements RecordingPort {
  started: RecordingStartRequest | undefined;
  readonly calls: string[] = [];
  /** performance.now() of each entry of `calls`. */
  readonly times: number[] = [];
  readonly notes: AnnouncementNote[] = [];
  readonly problems: MediaProblemNote[] = [];
  readonly participantChanges: Array<{ side: string; joining: RecordingParticipant }> = [];

  start(request: RecordingStartRequest): void {
    this.started = request;
    this.#log('start');
  }
  async pause(): Promise<void> {
    this.#log('pause');
  }
  async resume(): Promise<void> {
    this.#log('resume');
  }
  async stop(): Promise<void> {
    this.#log('stop');
  }
  announcement(note: AnnouncementNote): void {
    this.notes.push(note);
  }
  mediaProblem(problem: MediaProblemNote): void {
    this.problems.push(problem);
  }
  participantChanged(side: 'other' | 'user', joining: RecordingParticipant): void {
    this.participantChanges.push({ side, joining });
  }
  async close(): Promise<void> {
    this.#log('close');
  }

  #log(call: string): void {
    this.calls.push(call);
    this.times.push(performance.now());
  }

  /** The recording server answered: label 1 / label 2 go to these ports (default a documentation address, never sent to in unit tests). */
  establish(address = '203.0.113.9', ports: [number, number] = [40000, 40002]): void {
    this.#established = { address, ports };
    this.emit('established', {
      label1: { accepted: true, address, port: ports[0], payloadType: 0 },
      label2: { accepted: true, address, port: ports[1], payloadType: 0 },
    });
  }

  fail(failure: RecordingFailureNote): void {
    this.#failed = true;
    this.emit('failed', failure);
  }

  #established: { address: string; ports: [number, number] } | undefined;
  #failed = false;
  readonly #n = ++portCount;

  /** A link like the SIPREC port's (recording-link.ts): ids numbered per port, no files. */
  link(): RecordingLink | undefined {
    if (!this.started) return undefined;
    const e = this.#established;
    const closed = this.calls.includes('stop') || this.calls.includes('close');
    return {
      siprecSessionId: `fake-session-${this.#n}`,
      metadata: { groupId: `group-${this.#n}`, sessionId: `cs-${this.#n}` },
      state: this.#failed ? 'failed' : closed ? 'stopped' : e ? 'active' : 'inviting',
      siprecCallId: e ? `fake-siprec-call-${this.#n}` : null,
      srs: e
        ? {
            status: 200,
            target: this.started.provider.recordingServers[0]?.uri ?? 'sip:srs@invalid',
            attempt: 0,
            contact: null,
            source: null,
            setupMs: 0,
            streams: ['1', '2'].map((label, i) => ({ label, accepted: true, address: e.address, port: e.ports[i]!, payloadType: 0 })),
          }
        : null,
      srsRecordingId: e ? `fake-recording-${this.#n}` : null,
      files: null,
    };
  }
}

let portCount = 0;

/** A factory that keeps every port it made. */
export function fakeRecordingFactory(): { factory: RecordingPortFactory; ports: FakeRecordingPort[] } {
  const ports: FakeRecordingPort[] = [];
  return {
    ports,
    factory: () => {
      const p = new FakeRecordingPort();
      ports.push(p);
      return p;
    },
  };
}

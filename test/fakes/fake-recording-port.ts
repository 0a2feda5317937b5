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
    this.emit('established', {
      label1: { accepted: true, address, port: ports[0], payloadType: 0 },
      label2: { accepted: true, address, port: ports[1], payloadType: 0 },
    });
  }

  fail(failure: RecordingFailureNote): void {
    this.emit('failed', failure);
  }
}

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

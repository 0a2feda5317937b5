/**
 * Entry of an srs media worker thread: the media sides (recording-media.ts) of the recordings the
 * main thread opens here, driven by the commands of srs-media-protocol.ts. The worker owns their
 * sockets and WAV files and runs on its own clock, and writes the recordings' small files the main
 * thread hands it (file-ops.ts); the main thread keeps SIP, SDP, metadata and the summaries.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { systemClock } from '../common/clock.js';
import { runFileOps } from './file-ops.js';
import { RecordingMedia } from './recording-media.js';
import { toWireError, type SrsMediaMessage, type SrsMediaRequest } from './srs-media-protocol.js';

const port = parentPort;
if (port === null) throw new Error('srs-media-worker must run in a worker thread');
const post = (msg: SrsMediaMessage): void => port.postMessage(msg);
const open = new Map<string, RecordingMedia>();

async function handle(msg: SrsMediaRequest): Promise<void> {
  switch (msg.kind) {
    case 'open': {
      const recordingId = msg.spec.recordingId;
      // the timeline starts when the main thread asked (its origin on this thread's monotonic clock, systemClock = performance.now())
      const startMonotonic = msg.originMs - performance.timeOrigin;
      const res = await RecordingMedia.open(
        msg.spec,
        systemClock,
        {
          onWriteError: (err) => post({ kind: 'write-error', recordingId, error: toWireError(err) }),
          onFirstPacket: (label) => post({ kind: 'first-packet', recordingId, label }),
        },
        startMonotonic,
      );
      if (res.ok) open.set(recordingId, res.media);
      post(res.ok ? { kind: 'opened', id: msg.id } : { kind: 'opened', id: msg.id, failure: { stage: res.stage, error: toWireError(res.error) } });
      return;
    }
    case 'set-active':
      open.get(msg.recordingId)?.setActive(msg.label, msg.active);
      return;
    case 'set-payload-types':
      open.get(msg.recordingId)?.setPayloadTypes(msg.label, new Map(msg.payloadTypes), msg.telephoneEventPayloadType);
      return;
    case 'files':
      try {
        await runFileOps(msg.ops);
        post({ kind: 'files-done', id: msg.id });
      } catch (err) {
        post({ kind: 'files-done', id: msg.id, error: toWireError(err) });
      }
      return;
    case 'memory':
      post({ kind: 'memory', id: msg.id, heapBytes: getHeapStatistics().total_heap_size, arrayBufferBytes: process.memoryUsage().arrayBuffers });
      return;
    case 'close': {
      const media = open.get(msg.recordingId);
      if (!media) {
        post({ kind: 'closed', id: msg.id, streams: [], error: { name: 'Error', message: `no open recording ${msg.recordingId}` }, originShiftMs: 0, timeline: { lateSamples: 0, refusedWrites: 0, framesFlushed: 0 } });
        return;
      }
      const res = await media.close(msg.elapsedMs);
      open.delete(msg.recordingId);
      post({
        kind: 'closed',
        id: msg.id,
        streams: res.streams,
        ...(res.wav ? { wav: res.wav } : {}),
        ...(res.error === undefined ? {} : { error: toWireError(res.error) }),
        originShiftMs: res.originShiftMs,
        timeline: res.timeline,
      });
      return;
    }
  }
}

// a handler that throws is a programmer error: the unhandled rejection ends the worker, and the
// main thread fails its recordings (srs-media-pool.ts)
port.on('message', (msg: SrsMediaRequest) => void handle(msg));
post({ kind: 'ready' });

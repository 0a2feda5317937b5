/** Public surface of the reference recording server. */
export { SrsApp, type SrsAppDeps, type SrsAppEvents, type ActiveRecording } from './srs-app.js';
export { SrsRecording, checkMetadata, type SrsRecordingState, type SrsRecordingInit } from './srs-recording.js';
export { DEFAULT_SRS_OPTIONS, resolveSrsOptions, type SrsOptions } from './srs-options.js';
export type { SrsFaultOptions } from './srs-fault-options.js';
export { RecordingStore, type RecordingFiles } from './recording-store.js';
export { buildRecordingSummary, type RecordingSummary, type RecordingEndReason } from './recording-summary.js';
export { RecordingRtpReceiver, type ReceiverStreamConfig, type StreamStats, type SampleSink } from './rtp-receiver.js';
export { StereoWavWriter } from './stereo-wav-writer.js';
export { StereoTimelineBuffer } from './stereo-timeline-buffer.js';
export { StreamTimeline } from './stream-timeline.js';
export { SrsMediaPool, type SrsMediaPoolOptions } from './srs-media-pool.js';
export { RecordingMedia, InThreadRecordingMedia } from './recording-media.js';
export type { RecordingMediaBackend, RecordingMediaHandle, RecordingMediaResult, RecordingMediaSpec } from './recording-media-types.js';

/** Public surface of the recording-session client (SRC side of RFC 7866). */
export * from './srs-connector-types.js';
export * from './recording-session-state.js';
export * from './recording-session-options.js';
export * from './recording-session-types.js';
export * from './failover-rules.js';
export * from './recording-request.js';
export { RecordingSession } from './recording-session.js';

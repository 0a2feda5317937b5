/** Audio building blocks of the media plane: G.711, WAV, tones, the prompt library. */
export * from './g711.js';
export * from './tones.js';
export * from './wav.js';
export * from './prompt-library.js';

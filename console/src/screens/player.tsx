import { useEffect, useRef, useState } from 'preact/hooks';

type Channels = 'both' | 'left' | 'right';

/**
 * The recording's two channels (channel 1: the other party, channel 2: the recorded user, R-30):
 * an <audio> element whose output goes through WebAudio (a channel splitter) so either party can
 * be heard alone, on both ears, or both together.
 */
export function Player({ src }: { src: string }) {
  const audio = useRef<HTMLAudioElement>(null);
  const graph = useRef<{ ctx: AudioContext; left: GainNode[]; right: GainNode[] } | null>(null);
  const [channels, setChannels] = useState<Channels>('both');
  const [duration, setDuration] = useState<number | null>(null);

  /** Built on first play (browsers start an AudioContext only after a user gesture). */
  const ensureGraph = () => {
    if (graph.current || !audio.current) return;
    const ctx = new AudioContext();
    const source = ctx.createMediaElementSource(audio.current);
    const split = ctx.createChannelSplitter(2);
    const merge = ctx.createChannelMerger(2);
    source.connect(split);
    // gain[from channel][to output]
    const g = [0, 1].map(() => [0, 1].map(() => ctx.createGain()));
    for (const from of [0, 1]) for (const out of [0, 1]) {
      split.connect(g[from]![out]!, from);
      g[from]![out]!.connect(merge, 0, out);
    }
    merge.connect(ctx.destination);
    graph.current = { ctx, left: g[0]!, right: g[1]! };
    route(channels);
  };
  const route = (c: Channels) => {
    const gr = graph.current;
    if (!gr) return;
    const set = (n: GainNode, v: number) => (n.gain.value = v);
    // both: channel 1 left, channel 2 right; one party alone: that channel on both ears
    set(gr.left[0]!, c === 'right' ? 0 : 1);
    set(gr.left[1]!, c === 'left' ? 1 : 0);
    set(gr.right[0]!, c === 'right' ? 1 : 0);
    set(gr.right[1]!, c === 'left' ? 0 : 1);
  };
  useEffect(() => route(channels), [channels]);
  useEffect(() => () => void graph.current?.ctx.close(), []);

  return (
    <div class="player">
      <audio ref={audio} controls preload="metadata" src={src} aria-label="Recording audio" onPlay={ensureGraph} onLoadedMetadata={(e) => setDuration((e.target as HTMLAudioElement).duration)} />
      <fieldset class="inline">
        <legend>Listen to</legend>
        {(
          [
            ['both', 'Both parties'],
            ['left', 'Other party only (channel 1)'],
            ['right', 'Recorded user only (channel 2)'],
          ] as const
        ).map(([v, l]) => (
          <label key={v}>
            <input type="radio" name="channels" value={v} checked={channels === v} onChange={() => setChannels(v)} /> {l}
          </label>
        ))}
      </fieldset>
      {duration !== null && Number.isFinite(duration) && (
        <p class="hint" data-testid="duration">
          Duration {duration.toFixed(1)} s
        </p>
      )}
    </div>
  );
}

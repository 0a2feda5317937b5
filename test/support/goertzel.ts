/**
 * Goertzel single-frequency detector: the measuring instrument of the spectral tests.
 *
 * goertzelPower() returns the power at one frequency, normalised so that a full-scale sinusoid
 * (peak 32767) at exactly that frequency reads 1.0 and a sinusoid at peak level L dBFS reads
 * 10^(L/10). A Hann window is applied so that strong tones elsewhere leak little into the bin.
 * Frequencies need not fall on a DFT bin (generalised Goertzel, coefficient 2cos(2*pi*f/fs)).
 */

const RATE = 8000;

export function goertzelPower(pcm: Int16Array, frequencyHz: number, sampleRate = RATE): number {
  const n = pcm.length;
  if (n === 0) return 0;
  const w = (2 * Math.PI * frequencyHz) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const win = n > 1 ? 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)) : 1;
    wsum += win;
    const s0 = (pcm[i]! / 32767) * win + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const mag2 = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // |X| of a unit-peak sinusoid = wsum / 2
  return (4 * mag2) / (wsum * wsum);
}

/** Power at each candidate frequency, strongest first. */
export function dominantTones(pcm: Int16Array, candidatesHz: number[], sampleRate = RATE): Array<{ hz: number; power: number }> {
  return candidatesHz.map((hz) => ({ hz, power: goertzelPower(pcm, hz, sampleRate) })).sort((a, b) => b.power - a.power);
}

/** Power in dB relative to a full-scale sinusoid (dBFS of the peak level); -Infinity for none. */
export function powerDb(power: number): number {
  return 10 * Math.log10(power);
}

/** Mean power of the signal (a full-scale sinusoid reads 0.5); for total-energy comparisons. */
export function meanSquare(pcm: Int16Array): number {
  if (pcm.length === 0) return 0;
  let acc = 0;
  for (let i = 0; i < pcm.length; i++) acc += (pcm[i]! / 32767) ** 2;
  return acc / pcm.length;
}

import { describe, expect, it } from 'vitest';
import { FeatureCodeMatcher, parseInfoControl } from '../../../src/call/recording-controls.js';

describe('R-17 feature codes and SIP INFO controls', () => {
  it('MUST map the default codes *1..*4 to start/stop/pause/resume', () => {
    const m = new FeatureCodeMatcher();
    const seq = (digits: string, t0: number) => [...digits].map((d, i) => m.push(d, t0 + i * 100)).filter(Boolean);
    expect(seq('*1', 0)).toEqual(['start']);
    expect(seq('*2', 1000)).toEqual(['stop']);
    expect(seq('*3', 2000)).toEqual(['pause']);
    expect(seq('*4', 3000)).toEqual(['resume']);
  });

  it('MUST ignore digits that are not a code and restart on a new star', () => {
    const m = new FeatureCodeMatcher();
    expect(['1', '2', '*', '*', '3'].map((d, i) => m.push(d, i * 100))).toEqual([undefined, undefined, undefined, undefined, 'pause']);
  });

  it('MUST drop a code whose digits are further apart than the inter-digit timeout', () => {
    const m = new FeatureCodeMatcher(undefined, 3000);
    expect(m.push('*', 0)).toBeUndefined();
    expect(m.push('3', 3001)).toBeUndefined();
    expect(m.push('*', 4000)).toBeUndefined();
    expect(m.push('3', 6999)).toBe('pause');
  });

  it('MUST accept configured multi-digit codes', () => {
    const m = new FeatureCodeMatcher({ '#77': 'pause', '#78': 'resume' });
    expect(['#', '7', '8'].map((d, i) => m.push(d, i))).toEqual([undefined, undefined, 'resume']);
    expect(m.push('x', 10)).toBeUndefined();
  });

  it('MUST read dtmf-relay, dtmf and the recording-control body; anything else is unknown', () => {
    expect(parseInfoControl('application/dtmf-relay', 'Signal=*\r\nDuration=160\r\n')).toEqual({ kind: 'digit', digit: '*' });
    expect(parseInfoControl('Application/DTMF-Relay; charset=x', 'signal= 3\nDuration=100')).toEqual({ kind: 'digit', digit: '3' });
    expect(parseInfoControl('application/dtmf', '#')).toEqual({ kind: 'digit', digit: '#' });
    expect(parseInfoControl('application/vnd.recording-control+json', '{"action":"resume"}')).toEqual({ kind: 'action', action: 'resume' });
    expect(parseInfoControl('application/vnd.recording-control+json', '{"action":"explode"}')).toEqual({ kind: 'unknown' });
    expect(parseInfoControl('application/vnd.recording-control+json', '{not json')).toEqual({ kind: 'unknown' });
    expect(parseInfoControl(undefined, '')).toEqual({ kind: 'unknown' });
  });
});

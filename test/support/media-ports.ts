import type { PortRange } from './ports.js';

/** The core media engineer's test range (RTP/RTCP of planes, fake endpoints, fake recording server). */
export const MEDIA_CORE_PORTS: PortRange = { from: 20000, to: 24999 };

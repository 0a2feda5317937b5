import { AppError } from '../../common/errors.js';
import type { CallSummary } from '../../call/call-session.js';
import type { ControlResult } from '../../call/recording-controller.js';
import { RECORDING_ACTIONS, type RecordingAction } from '../../call/recording-controls.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { registerCallEvents, type CallFeedSource } from './call-events-plugin.js';

/**
 * Live calls (the call layer's CallManager) and per-call recording control (R-17 "through the
 * admin API, per call"):
 *
 *   GET    /v1/calls                      live calls with their recording state and, per recording
 *                                         session, what links the call to it (`recordings`: SIPREC
 *                                         session and Call-ID, the server's answer and recording id,
 *                                         the reference server's files; docs/admin-api.md)
 *   GET    /v1/calls/{id}                 one call (id = the call's id, or its SIP Call-ID)
 *   POST   /v1/calls/{id}/recording       { "action": "start" | "stop" | "pause" | "resume", "party"?: string }
 *                                         200 { ok: true, state }; 409 CALL_CONTROL_REFUSED when the
 *                                         party's mode or the recording state does not allow it, or
 *                                         when the call has several recordings (one per recorded
 *                                         user, R-10) and `party` names none of them: 'caller',
 *                                         'callee' or the recorded user's / virtual line's id
 *   DELETE /v1/calls/{id}                 hang the call up (both legs), 204
 *
 * Unknown ids answer 404 CALL_NOT_FOUND.
 *
 * With several nodes sharing a database (DATABASE_URL; cluster-calls.ts, docs/scaling.md) the list
 * holds the calls of every live node, each with its `node`, and an action on a call of another node
 * is forwarded to that node. `?scope=local` (on every route) answers from this node's calls only:
 * forwarded actions carry it, so a request is forwarded once at most.
 */
export interface LiveCalls {
  list(scope?: CallScope): CallSummary[] | Promise<CallSummary[]>;
  /** The call layer's change feed (CallManager.changes); with it GET /v1/calls/events streams the list (call-events-plugin.ts). */
  readonly changes?: CallFeedSource['changes'];
  get(id: string, scope?: CallScope): LiveCallHandle | undefined | Promise<LiveCallHandle | undefined>;
}

/** 'all': every node's calls (the default); 'local': this node's only. */
export type CallScope = 'all' | 'local';

/** One live call as the routes act on it (CallSession, or a call of another node: cluster-calls.ts). */
export interface LiveCallHandle {
  summary(): CallSummary;
  control(action: RecordingAction, party?: string): Promise<ControlResult>;
  hangup(reason: string): Promise<void>;
}

const scopeOf = (query: Record<string, string>): CallScope => (query.scope === 'local' ? 'local' : 'all');

const recordingActionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    action: { type: 'string', enum: [...RECORDING_ACTIONS] },
    /** Which recording: 'caller', 'callee' or the recorded user's id; needed only when the call has several. */
    party: { type: 'string', minLength: 1, maxLength: 128 },
  },
} as const;

export function callsPlugin(calls: LiveCalls): AdminPlugin {
  const find = async (id: string, query: Record<string, string>): Promise<LiveCallHandle> => {
    const call = await calls.get(id, scopeOf(query));
    if (!call) throw new AppError('CALL_NOT_FOUND', id);
    return call;
  };
  return {
    name: 'calls',
    register(app) {
      const tags = ['calls'];
      const changes = calls.changes;
      if (changes) registerCallEvents(app, { list: () => calls.list(), changes });
      defineRoute(app, { method: 'GET', url: '/calls', tags, summary: 'Live calls with their recording state', handler: async ({ query }) => ({ calls: await calls.list(scopeOf(query)) }) });
      defineRoute(app, { method: 'GET', url: '/calls/:callId', tags, summary: 'One live call', handler: async ({ params, query }) => (await find(params.callId!, query)).summary() });
      defineRoute<{ action: RecordingAction; party?: string }>(app, {
        method: 'POST',
        url: '/calls/:callId/recording',
        tags,
        summary: 'Start, stop, pause or resume the recording of a live call (R-17)',
        body: recordingActionSchema,
        handler: async ({ params, body, query }) => {
          const result = await (await find(params.callId!, query)).control(body.action, body.party);
          if (!result.ok) throw new AppError('CALL_CONTROL_REFUSED', `${body.action}: ${result.reason} (recording ${result.state})`);
          return result;
        },
      });
      defineRoute(app, {
        method: 'DELETE',
        url: '/calls/:callId',
        tags,
        summary: 'Hang up a live call',
        handler: async ({ params, query }) => {
          await (await find(params.callId!, query)).hangup('admin-hangup');
          return undefined;
        },
      });
    },
  };
}

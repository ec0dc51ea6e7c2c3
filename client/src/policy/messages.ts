/**
 * Policy socket messages (MVP-SPEC section 9) and a validating parser.
 *
 * The server is trusted for content but not for shape: every frame is checked
 * for types, id syntax and sizes before anything reaches the state machine,
 * because a malformed list could otherwise widen what we subscribe to.
 */
import type { Orientation, Vec3 } from '../types';

export interface SnapshotMessage {
  type: 'policy.snapshot';
  roomId: string;
  participantId: string;
  revision: number;
  canHear: string[];
}

export interface DeltaMessage {
  type: 'policy.audibility.delta';
  roomId: string;
  revision: number;
  /** Revision of this participant's previous set; local != this means a gap. */
  previousRevision: number;
  /** The FULL set at `revision`. */
  canHear: string[];
}

export interface AudienceMessage {
  type: 'policy.audience';
  roomId: string;
  revision: number;
  /** Participants allowed to subscribe to MY microphone. */
  audience: string[];
}

export interface PoseEntry {
  participantId: string;
  position: Vec3;
  orientation?: Orientation;
}

export interface PoseBatchMessage {
  type: 'policy.pose.batch';
  roomId: string;
  timestampMs: number;
  poses: PoseEntry[];
}

export interface ErrorMessage {
  type: 'policy.error';
  code: string;
  message: string;
}

export type ServerMessage =
  SnapshotMessage | DeltaMessage | AudienceMessage | PoseBatchMessage | ErrorMessage;

export type SnapshotReason = 'revision_gap' | 'stale' | 'reconnect';

export type ClientMessage =
  | { type: 'auth'; token: string }
  | {
      type: 'policy.snapshot.request';
      roomId: string;
      lastAppliedRevision: number;
      reason: SnapshotReason;
    }
  | { type: 'policy.audience.ack'; roomId: string; revision: number };

/** Limits (the server's PV_ID_MAX and room sizes are well inside them). */
export const FRAME_BYTES_MAX = 512 * 1024;
export const ID_LIST_MAX = 4096;
export const POSES_MAX = 4096;
const ID_RE = /^[A-Za-z0-9_.:@-]{1,64}$/;

/** Result of parsing one frame: the message, or why it was rejected. */
export type ParseResult = { ok: true; msg: ServerMessage } | { ok: false; why: string };

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isValidId(v: unknown): v is string {
  return typeof v === 'string' && ID_RE.test(v);
}

function isRevision(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isVec3(v: unknown): v is Vec3 {
  return isObj(v) && Number.isFinite(v.x) && Number.isFinite(v.y) && Number.isFinite(v.z);
}

function isOrientation(v: unknown): v is Orientation {
  return isObj(v) && isVec3(v.forward) && isVec3(v.up);
}

/** Returns a sorted, de-duplicated copy, or null if any id is invalid. */
function idList(v: unknown): string[] | null {
  if (!Array.isArray(v) || v.length > ID_LIST_MAX) return null;
  for (const id of v) if (!isValidId(id)) return null;
  return Array.from(new Set(v as string[])).sort();
}

function parsePoses(v: unknown): PoseEntry[] | null {
  if (!Array.isArray(v) || v.length > POSES_MAX) return null;
  const out: PoseEntry[] = [];
  for (const p of v) {
    if (!isObj(p) || !isValidId(p.participantId) || !isVec3(p.position)) return null;
    if (p.orientation !== undefined && !isOrientation(p.orientation)) return null;
    const { x, y, z } = p.position;
    const entry: PoseEntry = { participantId: p.participantId, position: { x, y, z } };
    if (p.orientation) entry.orientation = p.orientation;
    out.push(entry);
  }
  return out;
}

/** Returns the parsed message or a reason; never throws. */
export function parseServerMessage(text: string): ParseResult {
  if (text.length > FRAME_BYTES_MAX) return { ok: false, why: 'frame too large' };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, why: 'not JSON' };
  }
  if (!isObj(v) || typeof v.type !== 'string') return { ok: false, why: 'no type' };
  return parseTyped(v);
}

function parseTyped(v: Obj): ParseResult {
  const bad = (why: string): ParseResult => ({ ok: false, why: `${String(v.type)}: ${why}` });
  if (v.type === 'policy.error') {
    if (typeof v.code !== 'string') return bad('code');
    const message = typeof v.message === 'string' ? v.message : '';
    return { ok: true, msg: { type: 'policy.error', code: v.code, message } };
  }
  if (!isValidId(v.roomId)) return bad('roomId');
  const roomId = v.roomId;
  switch (v.type) {
    case 'policy.snapshot': {
      const canHear = idList(v.canHear);
      if (!isValidId(v.participantId)) return bad('participantId');
      if (!isRevision(v.revision) || !canHear) return bad('revision/canHear');
      const participantId = v.participantId;
      return {
        ok: true,
        msg: { type: v.type, roomId, participantId, revision: v.revision, canHear },
      };
    }
    case 'policy.audibility.delta': {
      const canHear = idList(v.canHear);
      if (!isRevision(v.revision) || !isRevision(v.previousRevision) || !canHear) {
        return bad('revision/previousRevision/canHear');
      }
      const { revision, previousRevision } = v;
      return { ok: true, msg: { type: v.type, roomId, revision, previousRevision, canHear } };
    }
    case 'policy.audience': {
      const audience = idList(v.audience);
      if (!isRevision(v.revision) || !audience) return bad('revision/audience');
      return { ok: true, msg: { type: v.type, roomId, revision: v.revision, audience } };
    }
    case 'policy.pose.batch': {
      const poses = parsePoses(v.poses);
      if (!Number.isFinite(v.timestampMs) || !poses) return bad('timestampMs/poses');
      const timestampMs = v.timestampMs as number;
      return { ok: true, msg: { type: v.type, roomId, timestampMs, poses } };
    }
    default:
      return bad('unknown type');
  }
}

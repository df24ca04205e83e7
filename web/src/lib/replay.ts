// Session replay segments (GET /web/sessions/{id}/replay) back to rrweb's event list: each
// segment's body is a JSON array of rrweb events, gzipped and base64-encoded by the SDK (or
// plain JSON where the browser had no CompressionStream). A session's replay is its recordings
// in the order they started, each recording its segments in sequence order.
import type { ReplaySegment } from './webapi';

/** An rrweb event as the recorder emits it. */
export interface RrwebEvent {
  type: number;
  data: unknown;
  timestamp: number;
}

/** rrweb's event types this file looks at. */
export const FULL_SNAPSHOT = 2;
export const META = 4;

function base64Bytes(b64: string): Uint8Array {
  const bin = atob(b64.replace(/\s+/g, ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function gunzip(bytes: Uint8Array): Promise<string> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text();
}

/** The rrweb events of one segment. */
export async function decodeSegment(seg: ReplaySegment): Promise<RrwebEvent[]> {
  let text: string;
  if (seg.encoding === 'json') text = seg.data;
  else if (seg.encoding === 'gzip+base64') text = await gunzip(base64Bytes(seg.data));
  else throw new Error(`replay segment encoding "${seg.encoding}" is not known`);
  const events: unknown = JSON.parse(text);
  if (!Array.isArray(events)) throw new Error('a replay segment is not a list of events');
  return events.filter((e): e is RrwebEvent => !!e && typeof e === 'object' && typeof (e as RrwebEvent).type === 'number' && typeof (e as RrwebEvent).timestamp === 'number');
}

/**
 * Segments in playing order: grouped by recording, recordings by their first segment's time,
 * segments of a recording by sequence (then time).
 */
export function orderSegments(segments: ReplaySegment[]): ReplaySegment[] {
  const groups = new Map<string, ReplaySegment[]>();
  for (const s of segments) {
    const key = s.recording_id ?? '';
    const g = groups.get(key);
    if (g) g.push(s);
    else groups.set(key, [s]);
  }
  const ordered = [...groups.values()].map((g) =>
    [...g].sort((a, b) => (a.sequence ?? Number.MAX_SAFE_INTEGER) - (b.sequence ?? Number.MAX_SAFE_INTEGER) || a.time_unix_nano - b.time_unix_nano),
  );
  ordered.sort((a, b) => Math.min(...a.map((s) => s.time_unix_nano)) - Math.min(...b.map((s) => s.time_unix_nano)));
  return ordered.flat();
}

export interface DecodedReplay {
  events: RrwebEvent[];
  /** Segments that could not be read (the rest still plays). */
  failed: number;
  /** Whether some full snapshot exists (rrweb cannot play without one). */
  playable: boolean;
}

/** All events of a session's replay, in playing order. */
export async function decodeReplay(segments: ReplaySegment[]): Promise<DecodedReplay> {
  const events: RrwebEvent[] = [];
  let failed = 0;
  for (const seg of orderSegments(segments)) {
    try {
      events.push(...(await decodeSegment(seg)));
    } catch {
      failed++;
    }
  }
  return { events, failed, playable: events.some((e) => e.type === FULL_SNAPSHOT) };
}

/** Where in the replay (ms from its first event) a moment (unix ms) is, clamped to it. */
export function replayOffset(events: RrwebEvent[], atMs: number): number {
  if (!events.length) return 0;
  const start = events[0].timestamp;
  const end = events[events.length - 1].timestamp;
  return Math.max(0, Math.min(end, atMs) - start);
}

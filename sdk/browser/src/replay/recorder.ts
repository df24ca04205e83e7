// The replay recorder, built on its own as replay.mjs and loaded only for sessions that record.
// rrweb records with everything masked: every input, all text (unless under one of the
// `unmaskSelectors`), and media blocked. In `full` mode segments go out every 10 s; in
// `error` mode the last 60 s stay in memory and go out only when an error happens, after
// which recording goes on in full.

import { record } from 'rrweb';
import { id64 } from '../ids';
import type { Recorder, RecorderOptions, Segment } from './types';

const SEGMENT_MS = 10_000;
/** Events kept in error mode: whole checkouts covering at least the last minute. */
const BUFFER_MS = 60_000;
/** A full snapshot this often in error mode, so that the buffer can start with one. */
const CHECKOUT_MS = 30_000;
/** A segment is cut when its events' JSON would exceed this (estimated). */
const SEGMENT_BYTES = 400_000;
/** What the error-mode buffer may hold in all (estimated JSON bytes). */
const BUFFER_BYTES = 8_000_000;
export const BLOCK_SELECTOR = 'img,picture,video,audio,canvas,iframe,object,embed,svg image';

interface RrwebEvent {
  type: number;
  timestamp: number;
}

/** Masked text: every non-space character a `*`, so layout survives and content does not. */
export function maskText(text: string): string {
  return text.replace(/\S/g, '*');
}

function unmasked(el: Element | null, selectors: string): boolean {
  if (!el || !selectors) return false;
  try {
    return el.closest(selectors) !== null;
  } catch {
    return false;
  }
}

async function encode(events: RrwebEvent[]): Promise<{ body: string; encoding: Segment['encoding'] }> {
  const json = JSON.stringify(events);
  if (typeof CompressionStream === 'undefined') return { body: json, encoding: 'json' };
  const stream = new Blob([json]).stream().pipeThrough(new CompressionStream('gzip'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  let binary = '';
  // In pieces: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return { body: btoa(binary), encoding: 'gzip+base64' };
}

export function startRecorder(o: RecorderOptions): Recorder {
  const recordingId = id64();
  const selectors = o.unmaskSelectors.join(',');
  let mode = o.mode;
  let sequence = 0;
  // Full mode: the events of the segment being filled. Error mode: checkouts, each starting
  // with a full snapshot, oldest first.
  let current: RrwebEvent[] = [];
  let currentBytes = 0;
  let currentFull = false;
  let checkouts: { events: RrwebEvent[]; bytes: number }[] = [];
  let sending = Promise.resolve();

  const cut = (events: RrwebEvent[], full: boolean, trigger: Segment['trigger']): Promise<void> => {
    if (!events.length) return sending;
    const seq = sequence++;
    // One after the other, so segments leave in order.
    sending = sending.then(async () => {
      try {
        const { body, encoding } = await encode(events);
        o.emit({
          recordingId,
          sequence: seq,
          start: events[0].timestamp,
          end: events[events.length - 1].timestamp,
          events: events.length,
          hasFullSnapshot: full,
          encoding,
          body,
          trigger,
          mode: o.mode,
        });
      } catch {
        /* dropped: the next full snapshot lets playback recover */
      }
    });
    return sending;
  };

  const takeCurrent = (trigger: Segment['trigger']): Promise<void> => {
    const events = current;
    const full = currentFull;
    current = [];
    currentBytes = 0;
    currentFull = false;
    return cut(events, full, trigger);
  };

  const onEvent = (event: RrwebEvent, isCheckout?: boolean) => {
    // Sizes are estimated from the event kind: serializing each event to weigh it would double the cost.
    const bytes = event.type === 2 ? 50_000 : 300;
    if (mode === 'error') {
      // A checkout is a Meta event (type 4) then a full snapshot, both flagged.
      if ((isCheckout && event.type === 4) || !checkouts.length) checkouts.push({ events: [], bytes: 0 });
      const last = checkouts[checkouts.length - 1];
      last.events.push(event);
      last.bytes += bytes;
      // Keep the checkouts still needed to cover the last minute, and the memory cap.
      const horizon = event.timestamp - BUFFER_MS;
      let total = checkouts.reduce((s, c) => s + c.bytes, 0);
      while (checkouts.length > 1) {
        const next = checkouts[1];
        if (next.events[0].timestamp > horizon && total <= BUFFER_BYTES) break;
        total -= checkouts[0].bytes;
        checkouts.shift();
      }
      return;
    }
    if (event.type === 2) currentFull = true;
    current.push(event);
    currentBytes += bytes;
    if (currentBytes >= SEGMENT_BYTES) void takeCurrent('size');
  };

  const stopRecording = record({
    emit: (e, isCheckout) => {
      try {
        onEvent(e as RrwebEvent, isCheckout);
      } catch {
        /* never into the page */
      }
    },
    checkoutEveryNms: mode === 'error' ? CHECKOUT_MS : undefined,
    maskAllInputs: true,
    maskTextSelector: '*',
    maskTextFn: (text, el) => (unmasked(el, selectors) ? text : maskText(text)),
    maskInputFn: (text, el) => {
      const password = el instanceof HTMLInputElement && el.type === 'password';
      return !password && unmasked(el, selectors) ? text : maskText(text);
    },
    blockSelector: BLOCK_SELECTOR,
    recordCanvas: false,
    collectFonts: false,
    inlineImages: false,
    inlineStylesheet: true,
    slimDOMOptions: 'all',
    sampling: { mousemove: 100, scroll: 150 },
  });

  const timer = setInterval(() => {
    if (mode === 'full') void takeCurrent('interval');
  }, SEGMENT_MS);

  return {
    error() {
      if (mode !== 'error') return;
      mode = 'full';
      const buffered = checkouts;
      checkouts = [];
      for (const c of buffered) void cut(c.events, true, 'error');
    },
    flush(trigger) {
      return mode === 'full' ? takeCurrent(trigger) : Promise.resolve();
    },
    stop() {
      clearInterval(timer);
      if (stopRecording) stopRecording();
    },
  };
}

// In the main bundle: for sessions that record, loads the recorder (replay.mjs) once the page
// has loaded and is idle, and turns its segments into `browser.replay_segment` log records.

import { type Client, guard } from '../client';
import type { Recorder, RecorderModule, Segment } from './types';

/** The dynamic import, kept out of reach of bundlers (the recorder is a separate file). */
const load = (url: string): Promise<RecorderModule> => import(/* @vite-ignore */ /* webpackIgnore: true */ url);

export function segmentAttributes(s: Segment): Record<string, string | number | boolean> {
  return {
    'replay.recording.id': s.recordingId,
    'replay.segment.sequence': s.sequence,
    'replay.segment.start': s.start,
    'replay.segment.end': s.end,
    'replay.segment.events': s.events,
    'replay.segment.has_full_snapshot': s.hasFullSnapshot,
    'replay.segment.encoding': s.encoding,
    'replay.segment.trigger': s.trigger,
    'replay.mode': s.mode,
  };
}

/** Called at ready (the session is known). */
export function installReplay(client: Client, importer: (url: string) => Promise<RecorderModule> = load): void {
  const sessions = client.sessions;
  if (!sessions || sessions.current().replay === 'off' || !client.cfg.recorderUrl || !client.enabled) return;
  let recorder: Recorder | null = null;
  let errored = false;

  const emit = guard((s: Segment) => {
    client.event('browser.replay_segment', segmentAttributes(s), { body: s.body, exempt: true, time: s.start });
  });

  const start = guard(() => {
    importer(client.cfg.recorderUrl).then(
      guard((m: RecorderModule) => {
        if (!client.enabled) return;
        const current = sessions.current().replay;
        if (current === 'off') return;
        recorder = m.startRecorder({ mode: current, unmaskSelectors: client.cfg.unmaskSelectors, emit });
        if (errored) recorder.error();
      }),
      () => {
        /* the recorder could not be loaded: no replay for this page */
      },
    );
  });

  client.errorListeners.push(() => {
    if (sessions.current().replay === 'error') sessions.setReplay('full');
    errored = true;
    recorder?.error();
  });
  client.hideListeners.push(() => recorder?.flush('hide'));
  sessions.onRotate = guard(() => {
    // A new session decides anew; its recording starts over with a full snapshot.
    recorder?.stop();
    recorder = null;
    errored = false;
    if (sessions.current().replay !== 'off') start();
  }) as () => void;

  const idle = () => {
    const ric = (window as Window & { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => number }).requestIdleCallback;
    if (ric) ric(start, { timeout: 3000 });
    else setTimeout(start, 500);
  };
  if (document.readyState === 'complete') idle();
  else addEventListener('load', idle, { once: true });
}

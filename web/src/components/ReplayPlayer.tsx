// Session replay with rrweb's Replayer (loaded only when a session has a replay): the page
// rebuilt in a sandboxed iframe, scaled to the panel, with play/pause, a scrubber and speed.
// `seek` moves it from outside (the timeline beside it); `onTime` reports where it is.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { RrwebEvent } from '../lib/replay';
import { fmtOffset } from './Timeline';

type ReplayerT = import('rrweb').Replayer;

export interface Seek {
  /** Milliseconds from the replay's first event. */
  ms: number;
  /** Changes with every request, so that seeking to the same place twice works. */
  n: number;
}

const SPEEDS = [1, 2, 4, 8];

const clock = (ms: number) => fmtOffset(ms).slice(1).replace(/\.\d$/, '');

export function ReplayPlayer({ events, seek, onTime }: { events: RrwebEvent[]; seek?: Seek; onTime?: (ms: number) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const mount = useRef<HTMLDivElement>(null);
  const player = useRef<ReplayerT | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [playing, setPlaying] = useState(false);
  const [time, setTime] = useState(0);
  const [total, setTotal] = useState(0);
  const [speed, setSpeed] = useState(1);
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  const [scale, setScale] = useState(1);
  const onTimeRef = useRef(onTime);
  onTimeRef.current = onTime;

  const report = (ms: number) => {
    setTime(ms);
    onTimeRef.current?.(ms);
  };

  useEffect(() => {
    let cancelled = false;
    let r: ReplayerT | null = null;
    (async () => {
      try {
        const [{ Replayer }] = await Promise.all([import('rrweb'), import('rrweb/dist/style.css')]);
        if (cancelled || !mount.current) return;
        r = new Replayer(events as any, { root: mount.current, mouseTail: false, showWarning: false, triggerFocus: false, skipInactive: false, speed: 1 });
        player.current = r;
        r.on('resize', (d: any) => d && setSize({ width: d.width, height: d.height }));
        r.on('finish', () => {
          setPlaying(false);
          report(r!.getMetaData().totalTime);
        });
        setTotal(r.getMetaData().totalTime);
        r.pause(0);
        setReady(true);
      } catch (e) {
        if (!cancelled) setError((e as Error).message || String(e));
      }
    })();
    return () => {
      cancelled = true;
      r?.destroy();
      player.current = null;
    };
  }, [events]);

  // Where the player is, while it plays.
  useEffect(() => {
    if (!playing) return;
    const id = setInterval(() => player.current && report(Math.min(player.current.getCurrentTime(), total)), 200);
    return () => clearInterval(id);
  }, [playing, total]);

  // Fit the recorded viewport into the panel.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !size) return;
    const fit = () => setScale(Math.min(1, el.clientWidth / Math.max(1, size.width)));
    fit();
    const ro = new ResizeObserver(fit);
    ro.observe(el);
    return () => ro.disconnect();
  }, [size]);

  const goTo = (ms: number, play: boolean) => {
    const r = player.current;
    if (!r) return;
    const at = Math.max(0, Math.min(total, ms));
    if (play) r.play(at);
    else r.pause(at);
    setPlaying(play);
    report(at);
  };

  useEffect(() => {
    if (seek && ready) goTo(seek.ms, playing);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [seek?.n, ready]);

  const toggle = () => {
    if (playing) goTo(player.current?.getCurrentTime() ?? time, false);
    else goTo(time >= total ? 0 : time, true);
  };

  const setRate = (s: number) => {
    setSpeed(s);
    player.current?.setConfig({ speed: s });
  };

  return (
    <div class="replay" data-testid="replay-player" data-ready={ready ? '1' : undefined} data-time={Math.round(time)} data-playing={playing ? '1' : undefined}>
      <div class="replay-stage" ref={box} style={size ? { height: `${Math.round(size.height * scale)}px` } : undefined}>
        <div ref={mount} class="replay-mount" style={{ transform: `scale(${scale})` }} />
        {!ready && !error && <div class="replay-msg muted">Loading the player…</div>}
        {error && (
          <div class="replay-msg bad" role="alert" data-testid="replay-error">
            The replay cannot be played: {error}
          </div>
        )}
      </div>
      <div class="replay-controls">
        <button class="btn" onClick={toggle} disabled={!ready} data-testid="replay-toggle" aria-label={playing ? 'Pause' : 'Play'}>
          {playing ? '❚❚' : '▶'}
        </button>
        <input
          type="range"
          class="grow"
          min={0}
          max={Math.max(1, total)}
          step={100}
          value={time}
          disabled={!ready}
          aria-label="Position in the replay"
          data-testid="replay-scrubber"
          onInput={(e) => goTo(Number((e.target as HTMLInputElement).value), playing)}
        />
        <span class="mono small" data-testid="replay-clock">
          {clock(time)} / {clock(total)}
        </span>
        <select class="select small" value={String(speed)} onChange={(e) => setRate(Number((e.target as HTMLSelectElement).value))} aria-label="Speed">
          {SPEEDS.map((s) => (
            <option value={String(s)}>{s}×</option>
          ))}
        </select>
      </div>
    </div>
  );
}

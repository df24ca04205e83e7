// What the main bundle and the lazily loaded recorder (replay.mjs) agree on.

export type RecordingMode = 'full' | 'error';

export interface Segment {
  /** Id of this recording: one per page load (and per session change within it). */
  recordingId: string;
  sequence: number;
  /** Epoch ms of the first and last rrweb event. */
  start: number;
  end: number;
  events: number;
  hasFullSnapshot: boolean;
  /** 'gzip+base64' (CompressionStream available) or 'json'. */
  encoding: 'gzip+base64' | 'json';
  body: string;
  trigger: 'interval' | 'size' | 'error' | 'hide';
  /** How the recording started: from the session's start, or on-error. */
  mode: RecordingMode;
}

export interface RecorderOptions {
  mode: RecordingMode;
  unmaskSelectors: string[];
  emit: (segment: Segment) => void;
}

export interface Recorder {
  /** An error happened: in error mode, send the buffered minute and go on recording in full. */
  error(): void;
  /** Encodes and emits what is buffered (full mode); `hide` when the page is being hidden. */
  flush(trigger: 'interval' | 'hide'): Promise<void>;
  stop(): void;
}

export interface RecorderModule {
  startRecorder(o: RecorderOptions): Recorder;
}

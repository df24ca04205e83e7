// Times: milliseconds since the epoch (fractions allowed) to OTLP's stringified nanoseconds.

/** Epoch milliseconds of a `performance.now()`-style timestamp. */
export function epochMs(perfNow: number): number {
  return performance.timeOrigin + perfNow;
}

/** Now, in epoch milliseconds with sub-millisecond precision where the browser gives it. */
export function nowMs(): number {
  return epochMs(performance.now());
}

/**
 * Epoch milliseconds as a decimal string of nanoseconds. Epoch nanoseconds need 61 bits, more
 * than a double holds exactly, so the whole milliseconds and the fraction are written apart.
 */
export function nanos(ms: number): string {
  if (!(ms > 0)) return '0';
  let whole = Math.floor(ms);
  // A double holds epoch milliseconds to about a quarter of a microsecond: microseconds it is.
  let micros = Math.round((ms - whole) * 1e3);
  if (micros >= 1000) {
    whole += 1;
    micros -= 1000;
  }
  const f = String(micros * 1000);
  return whole === 0 ? f : String(whole) + '000000'.slice(f.length) + f;
}

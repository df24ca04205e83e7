// Random identifiers in the W3C / OpenTelemetry hex forms.

function hex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  let out = '';
  // Trace and span ids must not be all zero; a retry is astronomically rare.
  for (;;) {
    crypto.getRandomValues(buf);
    out = '';
    let zero = true;
    for (let i = 0; i < bytes; i++) {
      const b = buf[i];
      if (b !== 0) zero = false;
      out += (b < 16 ? '0' : '') + b.toString(16);
    }
    if (!zero) return out;
  }
}

/** 128 bits, 32 hex digits: trace ids, session ids, anonymous user ids. */
export const id128 = (): string => hex(16);

/** 64 bits, 16 hex digits: span ids, page view ids. */
export const id64 = (): string => hex(8);

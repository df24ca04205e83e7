// The default URL scrubber: what a URL carries that is a secret or a person, replaced before
// it leaves the page (query and fragment values, credentials in the authority, e-mails).

export const REDACTED = 'redacted';

// Parameter names whose values are secrets or personal: these words anywhere in the name, or
// these whole names.
const SECRET_WORD = /token|secret|passw|pwd|api[_-]?key|auth|signature|jwt|credential|e-?mail|ssn/i;
const SECRET_NAME = /^(key|code|sig|sid|session|session[_-]?id|otp|pin|state|nonce|phone)$/i;
const EMAIL = /[^\s/?#&=:@]+(@|%40)[^\s/?#&=:@]+\.[a-z]{2,}/gi;
const EMAIL_ONE = /[^\s/?#&=:@]+@[^\s/?#&=:@]+\.[a-z]{2,}/i;
const JWT = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$/;

/** A value that looks like a credential: a JWT, or a long run mixing letters and digits. */
export function looksSecret(value: string): boolean {
  let v = value;
  try {
    v = decodeURIComponent(value);
  } catch {
    /* keep it raw */
  }
  if (JWT.test(v)) return true;
  if (v.length >= 16 && /^[A-Za-z0-9_\-+/=.~]+$/.test(v) && /[0-9]/.test(v) && /[A-Za-z]/.test(v)) {
    // Long hex or base64-ish strings; words with a number in them are usually shorter.
    return true;
  }
  return false;
}

function scrubPairs(part: string): string {
  return part
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair.replace(EMAIL, REDACTED);
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '') return pair;
      let decodedName = name;
      try {
        decodedName = decodeURIComponent(name);
      } catch {
        /* raw */
      }
      const secretName = SECRET_WORD.test(decodedName) || SECRET_NAME.test(decodedName);
      if (secretName || looksSecret(value) || EMAIL_ONE.test(safeDecode(value))) {
        return `${name}=${REDACTED}`;
      }
      return pair;
    })
    .join('&');
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return v;
  }
}

/**
 * Removes user:password from the authority, e-mails from the path, and the values of query
 * and fragment parameters that are named like secrets or look like them.
 */
export function defaultScrubUrl(url: string): string {
  if (typeof url !== 'string' || url === '') return '';
  let rest = url;
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  // scheme://user:pass@host → scheme://host
  rest = rest.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
  rest = rest.replace(EMAIL, REDACTED);
  let out = rest;
  if (q >= 0) out += '?' + scrubPairs(query);
  if (hash >= 0) {
    out += '#' + scrubFragment(fragment);
  }
  return out;
}

/** Fragments of SPAs are often routes (`#/orders/1?tab=2`), or parameters (`#access_token=…`). */
function scrubFragment(fragment: string): string {
  const q = fragment.indexOf('?');
  if (q >= 0) return fragment.slice(0, q).replace(EMAIL, REDACTED) + '?' + scrubPairs(fragment.slice(q + 1));
  if (fragment.includes('=')) return scrubPairs(fragment);
  return fragment.replace(EMAIL, REDACTED);
}

//! Error fingerprints: one id for every occurrence of the same error, from its type, its
//! message with the varying parts masked, and its top in-app frames (function and file, with
//! build hashes taken out of file names, never line numbers, which move with each build).

use crate::stack::Frame;

/// How many in-app frames take part in the fingerprint.
pub const FRAMES: usize = 3;

/// The message with numbers, quoted strings, URLs, hex and UUIDs masked.
pub fn normalize_message(message: &str) -> String {
    let masked: Vec<String> = message.split_whitespace().map(mask_word).collect();
    masked.join(" ")
}

fn mask_word(word: &str) -> String {
    if word.contains("://") {
        return "<url>".to_string();
    }
    let mut out = String::with_capacity(word.len());
    let mut chars = word.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' || c == '"' || c == '`' {
            // A quoted value (often a property name or user input): up to the closing quote.
            if let Some(end) = word[i + 1..].find(c) {
                out.push(c);
                out.push('*');
                out.push(c);
                let stop = i + 1 + end;
                while chars.peek().is_some_and(|(j, _)| *j <= stop) {
                    chars.next();
                }
                continue;
            }
        }
        if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|(_, d)| d.is_ascii_alphanumeric() || *d == '.')
            {
                chars.next();
            }
            out.push('#');
            continue;
        }
        out.push(c);
    }
    out
}

/// A file name without the build hash bundlers put in it (`app.3f9a1c2b.js`, `chunk-5MLDCV3Q.js`).
pub fn stable_file(name: &str) -> String {
    let mut parts: Vec<&str> = name.split('.').collect();
    parts.retain(|p| !looks_like_hash(p));
    let joined = parts.join(".");
    match joined.rsplit_once('-') {
        Some((head, tail)) if looks_like_hash(tail.split('.').next().unwrap_or("")) => {
            let ext = tail.split_once('.').map(|(_, e)| e).unwrap_or("");
            if ext.is_empty() {
                head.to_string()
            } else {
                format!("{head}.{ext}")
            }
        }
        _ => joined,
    }
}

fn looks_like_hash(part: &str) -> bool {
    part.len() >= 6
        && part.bytes().all(|b| b.is_ascii_alphanumeric())
        && part.bytes().any(|b| b.is_ascii_digit())
        && (part.bytes().all(|b| b.is_ascii_hexdigit())
            || part
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
}

/// Whether a frame is the application's own code: served from the page's origin (when the
/// page is known), not an extension, not the browser's internals.
pub fn in_app(frame: &Frame, page_origin: Option<&str>) -> bool {
    let url = frame.url.as_str();
    if url.starts_with("chrome-extension:")
        || url.starts_with("moz-extension:")
        || url.starts_with("safari-extension:")
        || url.starts_with("webkit-masked-url:")
        || url == "native"
    {
        return false;
    }
    match page_origin {
        Some(origin) => url.starts_with(origin),
        None => true,
    }
}

/// The origin (`scheme://host[:port]`) of an absolute URL.
pub fn origin_of(url: &str) -> Option<&str> {
    let start = url.find("://")? + 3;
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    Some(&url[..end])
}

/// The fingerprint of an error: 16 hex digits of a hash over its type, normalised message and
/// top in-app frames (all frames when none is in-app).
pub fn fingerprint(
    kind: &str,
    message: &str,
    frames: &[Frame],
    page_origin: Option<&str>,
) -> String {
    let mut h = Fnv::default();
    h.write(kind.as_bytes());
    h.write(&[0]);
    h.write(normalize_message(message).as_bytes());
    let mut own: Vec<&Frame> = frames.iter().filter(|f| in_app(f, page_origin)).collect();
    if own.is_empty() {
        own = frames.iter().collect();
    }
    for f in own.into_iter().take(FRAMES) {
        h.write(&[0]);
        h.write(f.function.as_deref().unwrap_or("?").as_bytes());
        h.write(&[1]);
        h.write(stable_file(f.file_name()).as_bytes());
    }
    format!("{:016x}", h.0)
}

/// FNV-1a, 64 bits: stable across builds and platforms (the std hasher is not).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack;

    #[test]
    fn messages_lose_what_varies() {
        assert_eq!(
            normalize_message("Cannot read properties of undefined (reading 'id')"),
            "Cannot read properties of undefined (reading '*')"
        );
        assert_eq!(
            normalize_message("Order 8123 failed after 2.5s at https://x.example/a?b=1"),
            "Order # failed after # at <url>"
        );
        assert_eq!(normalize_message("id 0x1f2e failed"), "id # failed");
        assert_eq!(normalize_message(""), "");
    }

    proptest::proptest! {
        #[test]
        fn masking_never_panics_and_is_stable(m in "\\PC{0,200}", f in "\\PC{0,40}") {
            let once = normalize_message(&m);
            proptest::prop_assert_eq!(normalize_message(&once), once.clone());
            let _ = stable_file(&f);
            let _ = origin_of(&m);
        }
    }

    #[test]
    fn build_hashes_leave_file_names() {
        assert_eq!(stable_file("app.3f9a1c2b.js"), "app.js");
        assert_eq!(stable_file("chunk-5MLDCV3Q.js"), "chunk.js");
        assert_eq!(stable_file("main.js"), "main.js");
        assert_eq!(stable_file("vendor-react.js"), "vendor-react.js");
    }

    #[test]
    fn same_error_in_two_builds_has_one_fingerprint() {
        let a = stack::parse(
            "TypeError: x\n    at renderCart (https://shop.example.com/app.3f9a1c2b.js:1:100)\n    at https://cdn.example.net/lib.js:1:1",
        );
        let b = stack::parse(
            "TypeError: x\n    at renderCart (https://shop.example.com/app.77e0aa91.js:1:180)",
        );
        let origin = Some("https://shop.example.com");
        let fa = fingerprint("TypeError", "Order 1 missing", &a, origin);
        let fb = fingerprint("TypeError", "Order 2 missing", &b, origin);
        assert_eq!(fa, fb);
        assert_eq!(fa.len(), 16);
        let other = fingerprint("RangeError", "Order 2 missing", &b, origin);
        assert_ne!(fa, other);
        assert_eq!(
            origin_of("https://shop.example.com:8443/x"),
            Some("https://shop.example.com:8443")
        );
    }
}

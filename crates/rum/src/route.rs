//! URL paths as routes: the segments that identify one thing among many (numbers, UUIDs, hex
//! ids, long tokens, e-mail addresses) become placeholders, so that `/orders/8123` and
//! `/orders/8124` are one route, `/orders/:id`. Stored as `url.template` (the semantic
//! convention's name for a low-cardinality path template).

/// The path of an absolute or relative URL, without query or fragment; a single-page app's
/// hash route (`/#/orders/1`) is the path when the real path is `/`.
pub fn path_of(url: &str) -> &str {
    let after_scheme = match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            match rest.find(['/', '?', '#']) {
                Some(j) => &rest[j..],
                None => "",
            }
        }
        None => url,
    };
    let (before_hash, hash) = match after_scheme.find('#') {
        Some(i) => (&after_scheme[..i], Some(&after_scheme[i + 1..])),
        None => (after_scheme, None),
    };
    let path = before_hash.split('?').next().unwrap_or("");
    if (path.is_empty() || path == "/")
        && let Some(h) = hash
        && h.starts_with('/')
    {
        return h.split('?').next().unwrap_or(h);
    }
    if path.is_empty() { "/" } else { path }
}

/// The route of a URL or path.
pub fn template(url_or_path: &str) -> String {
    let path = path_of(url_or_path);
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        match placeholder(segment) {
            Some(p) => out.push_str(p),
            None => out.push_str(segment),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The placeholder standing for a segment, when it names one thing among many.
fn placeholder(segment: &str) -> Option<&'static str> {
    if segment.is_empty() {
        return None;
    }
    let bytes = segment.as_bytes();
    let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    if digits == bytes.len() {
        return Some(":id");
    }
    if is_uuid(bytes) {
        return Some(":uuid");
    }
    let hex = bytes.iter().all(u8::is_ascii_hexdigit);
    if hex && bytes.len() >= 8 && digits > 0 {
        return Some(":hash");
    }
    if segment.contains('@') && segment.contains('.') {
        return Some(":email");
    }
    // Dates and ids with separators: mostly digits.
    if bytes.len() >= 4 && digits * 2 > bytes.len() {
        return Some(":id");
    }
    // Opaque tokens (base64, random ids): long, letters and digits mixed, no word shape.
    let tokenish = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'.' | b'~'));
    if tokenish && bytes.len() >= 20 && digits >= 2 && !has_word_shape(segment) {
        return Some(":token");
    }
    None
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A slug of words (`summer-sale-2024`, `how_to_return_an_item`): pieces of letters between
/// separators, the digits in pieces of their own.
fn has_word_shape(segment: &str) -> bool {
    let pieces: Vec<&str> = segment
        .split(['-', '_', '.', '~'])
        .filter(|p| !p.is_empty())
        .collect();
    pieces.len() >= 2
        && pieces.iter().all(|p| {
            p.bytes().all(|b| b.is_ascii_alphabetic()) || p.bytes().all(|b| b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_placeholders() {
        let cases = [
            ("/orders/8123", "/orders/:id"),
            (
                "https://shop.example.com/orders/8123?x=1#top",
                "/orders/:id",
            ),
            (
                "/users/3fa85f64-5717-4562-b3fc-2c963f66afa6/cart",
                "/users/:uuid/cart",
            ),
            ("/commits/9f86d081884c7d65", "/commits/:hash"),
            ("/p/summer-sale-2024", "/p/summer-sale-2024"),
            (
                "/reset/eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9x1",
                "/reset/:token",
            ),
            ("/archive/2024-05-17", "/archive/:id"),
            ("/u/ada@example.com", "/u/:email"),
            ("/", "/"),
            ("", "/"),
            ("https://shop.example.com", "/"),
            ("/api/v2/items", "/api/v2/items"),
            ("/decaf/beef", "/decaf/beef"),
            ("https://app.example.com/#/orders/77", "/orders/:id"),
            ("/cart/", "/cart/"),
        ];
        for (input, route) in cases {
            assert_eq!(template(input), route, "{input}");
        }
    }

    #[test]
    fn paths_of_urls() {
        assert_eq!(path_of("https://a.example/x/y?q=1"), "/x/y");
        assert_eq!(path_of("https://a.example?q=1"), "/");
        assert_eq!(path_of("/x#frag"), "/x");
    }

    proptest::proptest! {
        #[test]
        fn templating_never_panics_and_is_idempotent(s in "\\PC{0,80}") {
            let once = template(&s);
            proptest::prop_assert_eq!(template(&once), once.clone());
        }
    }
}

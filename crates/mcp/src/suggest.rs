//! "Did you mean": the closest known name by edit distance.

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate closest to `name` (case-insensitive), if it is close enough to be a typo
/// or `name` is a part of it.
pub fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let needle = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let hay = c.to_lowercase();
        let d = if hay.contains(&needle) && !needle.is_empty() {
            // "pay" → "payment": a prefix or part counts as a near miss.
            1
        } else {
            edit_distance(&needle, &hay)
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c.as_str()));
        }
    }
    let (distance, candidate) = best?;
    let allowed = (needle.chars().count() / 3).max(2);
    (distance <= allowed).then_some(candidate)
}

/// `unknown service 'chekout' — did you mean 'checkout'?`, or the known names when none is close.
pub fn unknown(kind: &str, name: &str, known: &[String], hint: &str) -> String {
    if let Some(c) = closest(name, known) {
        return format!("unknown {kind} '{name}' — did you mean '{c}'?");
    }
    if known.is_empty() {
        return format!("unknown {kind} '{name}': no {kind} has data in this window; {hint}");
    }
    let mut shown: Vec<&str> = known.iter().map(String::as_str).take(20).collect();
    shown.sort_unstable();
    let more = known.len().saturating_sub(shown.len());
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "unknown {kind} '{name}'; known: {}{tail}; {hint}",
        shown.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("chekout", "checkout"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn typos_get_a_suggestion() {
        let known = names(&["cart", "checkout", "frontend", "payment"]);
        assert_eq!(closest("chekout", &known), Some("checkout"));
        assert_eq!(closest("Checkout", &known), Some("checkout"));
        assert_eq!(closest("pay", &known), Some("payment"));
        assert_eq!(closest("inventory", &known), None);
        assert_eq!(
            unknown("service", "chekout", &known, "call list_services"),
            "unknown service 'chekout' — did you mean 'checkout'?"
        );
        let msg = unknown("service", "inventory", &known, "call list_services");
        assert!(
            msg.contains("known: cart, checkout, frontend, payment"),
            "{msg}"
        );
    }
}

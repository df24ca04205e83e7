//! Label sets: sorted by name, no empty values (an empty value is the same as no label, as in
//! Prometheus).

use std::fmt::Write;

/// The metric name label.
pub const NAME: &str = "__name__";

/// A series' labels, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    pub fn new(pairs: Vec<(String, String)>) -> Labels {
        let mut pairs = pairs;
        // Later pairs win: sort stably, then keep the last of each name.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            match out.last_mut() {
                Some(last) if last.0 == name => last.1 = value,
                _ => out.push((name, value)),
            }
        }
        out.retain(|(_, v)| !v.is_empty());
        Labels(out)
    }

    /// The value of `name`, or "" when the label is not set.
    pub fn get(&self, name: &str) -> &str {
        match self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => &self.0[i].1,
            Err(_) => "",
        }
    }

    pub fn has(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }

    /// Sets `name` to `value`; an empty value removes the label.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) if value.is_empty() => {
                self.0.remove(i);
            }
            Ok(i) => self.0[i].1 = value.to_string(),
            Err(_) if value.is_empty() => {}
            Err(i) => self.0.insert(i, (name.to_string(), value.to_string())),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.set(name, "");
    }

    pub fn name(&self) -> &str {
        self.get(NAME)
    }

    pub fn without_name(&self) -> Labels {
        let mut out = self.clone();
        out.remove(NAME);
        out
    }

    /// Only the labels in `names`.
    pub fn keep(&self, names: &[String]) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|(n, _)| names.iter().any(|k| k == n))
                .cloned()
                .collect(),
        )
    }

    /// All labels but those in `names` and the metric name.
    pub fn drop_with_name(&self, names: &[String]) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|(n, _)| n != NAME && !names.iter().any(|k| k == n))
                .cloned()
                .collect(),
        )
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A key equal for equal label sets (names and values cannot hold the separator).
    pub fn signature(&self) -> String {
        let mut s = String::new();
        for (n, v) in &self.0 {
            let _ = write!(s, "{n}\u{1}{v}\u{2}");
        }
        s
    }
}

impl std::fmt::Display for Labels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{{", self.name())?;
        let mut first = true;
        for (n, v) in &self.0 {
            if n == NAME {
                continue;
            }
            if !first {
                write!(f, ", ")?;
            }
            first = false;
            write!(f, "{n}={v:?}")?;
        }
        write!(f, "}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    #[test]
    fn labels_sort_drop_empty_and_keep_the_last_duplicate() {
        let labels = l(&[("b", "2"), ("a", "1"), ("c", ""), ("a", "3")]);
        assert_eq!(
            labels.iter().collect::<Vec<_>>(),
            vec![("a", "3"), ("b", "2")]
        );
        let mut more = labels.clone();
        more.set("0", "x");
        more.set("b", "");
        assert_eq!(
            more.iter().collect::<Vec<_>>(),
            vec![("0", "x"), ("a", "3")]
        );
        assert_eq!(labels.keep(&["b".into()]).len(), 1);
    }
}

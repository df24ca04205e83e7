//! A mergeable duration histogram on fixed log-scale bounds (buckets 15% wide), with the
//! minimum and maximum so that percentiles never leave the observed range.

use std::sync::OnceLock;

/// Upper bounds in milliseconds: 0.1 ms × 1.15^i, up to about two minutes.
pub fn bounds() -> &'static [f64] {
    static B: OnceLock<Vec<f64>> = OnceLock::new();
    B.get_or_init(|| (0..101).map(|i| 0.1 * 1.15f64.powi(i)).collect())
}

/// Same as [`bounds`], named for docs.
pub const BOUNDS_MS: fn() -> &'static [f64] = bounds;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sketch {
    /// One count per bound plus the overflow bucket.
    pub counts: Vec<u64>,
    pub count: u64,
    pub sum_ms: f64,
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

impl Sketch {
    pub fn record(&mut self, ms: f64) {
        let b = bounds();
        if self.counts.is_empty() {
            self.counts = vec![0; b.len() + 1];
        }
        let idx = b.partition_point(|upper| *upper < ms);
        self.counts[idx] += 1;
        self.count += 1;
        self.sum_ms += ms;
        self.widen(Some(ms), Some(ms));
    }

    /// Extends the observed range.
    pub fn widen(&mut self, min: Option<f64>, max: Option<f64>) {
        self.min_ms = match (self.min_ms, min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max_ms = match (self.max_ms, max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// Adds histogram counts given on the same bounds.
    pub fn merge_counts(&mut self, counts: &[u64], sum_ms: f64) {
        self.merge_counts_at(0, counts, sum_ms);
    }

    /// Adds histogram counts on the same bounds that start at bucket `first` (the buckets
    /// before it are zero): how trimmed histograms merge.
    pub fn merge_counts_at(&mut self, first: usize, counts: &[u64], sum_ms: f64) {
        let len = first + counts.len();
        if self.counts.len() < len {
            self.counts.resize(len, 0);
        }
        for (a, b) in self.counts[first..len].iter_mut().zip(counts) {
            *a += b;
        }
        self.count += counts.iter().sum::<u64>();
        self.sum_ms += sum_ms;
    }

    /// The q-quantile in milliseconds, interpolated within its bucket.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let b = bounds();
        let rank = q.clamp(0.0, 1.0) * self.count as f64;
        let mut seen = 0.0;
        for (i, c) in self.counts.iter().enumerate() {
            let c = *c as f64;
            if c > 0.0 && seen + c >= rank {
                let lower = if i == 0 { 0.0 } else { b[i - 1] };
                let upper = b.get(i).copied().unwrap_or(lower * 1.35);
                let v = lower + (upper - lower) * ((rank - seen) / c).clamp(0.0, 1.0);
                return Some(self.clamp(v));
            }
            seen += c;
        }
        b.last().copied().map(|v| self.clamp(v))
    }

    /// How many durations are surely above `ms`: those in buckets wholly above it (a bucket
    /// that holds `ms` counts as not above, the same for every sketch compared).
    pub fn count_above(&self, ms: f64) -> u64 {
        let idx = bounds().partition_point(|upper| *upper < ms);
        self.counts.iter().skip(idx + 1).sum()
    }

    fn clamp(&self, v: f64) -> f64 {
        let v = self.max_ms.map_or(v, |m| v.min(m));
        self.min_ms.map_or(v, |m| v.max(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_a_bucket() {
        let mut s = Sketch::default();
        for i in 1..=1000 {
            s.record(i as f64);
        }
        for (q, exact) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = s.quantile(q).unwrap();
            assert!((got - exact).abs() / exact < 0.2, "q{q}: {got} vs {exact}");
        }
        assert_eq!(Sketch::default().quantile(0.5), None);
        assert_eq!(s.quantile(1.0), Some(1000.0), "never beyond the maximum");
    }

    #[test]
    fn counts_above_leave_out_the_bucket_that_holds_the_value() {
        let mut s = Sketch::default();
        for v in [1.0, 10.0, 10.05, 100.0, 1000.0] {
            s.record(v);
        }
        assert_eq!(s.count_above(0.5), 5);
        assert_eq!(s.count_above(10.0), 2, "10.05 shares 10.0's bucket");
        assert_eq!(s.count_above(500.0), 1);
        assert_eq!(s.count_above(5000.0), 0);
        assert_eq!(Sketch::default().count_above(1.0), 0);
    }

    #[test]
    fn merging_equals_recording_together() {
        let mut a = Sketch::default();
        let mut b = Sketch::default();
        let mut both = Sketch::default();
        for v in [1.0, 5.0, 50.0] {
            a.record(v);
            both.record(v);
        }
        for v in [2.0, 500.0] {
            b.record(v);
            both.record(v);
        }
        a.merge_counts(&b.counts, b.sum_ms);
        a.widen(b.min_ms, b.max_ms);
        assert_eq!(a, both);
    }

    #[test]
    fn trimmed_counts_merge_at_their_offset() {
        let mut full = Sketch::default();
        for v in [3.0, 3.1, 40.0] {
            full.record(v);
        }
        let first = full.counts.iter().position(|c| *c > 0).unwrap();
        let last = full.counts.iter().rposition(|c| *c > 0).unwrap();
        let mut trimmed = Sketch::default();
        trimmed.merge_counts_at(first, &full.counts[first..=last], full.sum_ms);
        trimmed.widen(full.min_ms, full.max_ms);
        assert_eq!(trimmed.count, 3);
        assert_eq!(trimmed.quantile(0.5), full.quantile(0.5));
        assert_eq!(trimmed.quantile(0.99), full.quantile(0.99));
        // Merging into a longer sketch adds bucket by bucket.
        let part = full.counts[first..=last].to_vec();
        full.merge_counts_at(first, &part, full.sum_ms);
        assert_eq!(full.count, 6);
        assert_eq!(full.counts[first], 4);
    }
}

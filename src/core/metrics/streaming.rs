//! A histogram built while values stream past, in fixed memory, with exact counts: values fall
//! into [`FINE_BINS`] equal bins; when one falls outside, the bin width doubles (pairs of bins
//! merge) until it fits, so no value is ever dropped or approximated. At the end, neighbouring fine
//! bins are summed into the few bars a plot shows.

/// Fine bins kept (even, so pairs merge).
pub const FINE_BINS: usize = 1024;

/// An exact histogram over a range that grows as values arrive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamingHistogram {
    /// Left edge of the first fine bin.
    lo: f64,
    /// Width of a fine bin (0 until the first value).
    width: f64,
    counts: Vec<u64>,
    /// Values counted (finite ones).
    total: u64,
}

impl StreamingHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Values counted so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Count `values` (NaN and infinities are skipped).
    pub fn add_all(&mut self, values: impl IntoIterator<Item = f64>) {
        for v in values {
            self.add(v);
        }
    }

    /// Count one value (NaN and infinities are skipped).
    pub fn add(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        if self.counts.is_empty() {
            // The first value sits at the start of a narrow range; the range widens as needed.
            let scale = v.abs().max(1e-12);
            self.lo = v;
            self.width = scale * 1e-9;
            self.counts = vec![0; FINE_BINS];
        }
        while v < self.lo || v >= self.lo + self.width * FINE_BINS as f64 {
            if !self.grow(v) {
                return;
            }
        }
        let i = ((v - self.lo) / self.width) as usize;
        self.counts[i.min(FINE_BINS - 1)] += 1;
        self.total += 1;
    }

    /// Double the bin width towards `v`; false when the width cannot grow any more.
    fn grow(&mut self, v: f64) -> bool {
        let wider = self.width * 2.0;
        if !wider.is_finite() {
            return false;
        }
        let half = FINE_BINS / 2;
        let merged: Vec<u64> = self.counts.chunks(2).map(|p| p.iter().sum()).collect();
        let mut counts = vec![0; FINE_BINS];
        if v < self.lo {
            // The old range becomes the upper half.
            self.lo -= self.width * FINE_BINS as f64;
            counts[half..].copy_from_slice(&merged);
        } else {
            counts[..half].copy_from_slice(&merged);
        }
        self.counts = counts;
        self.width = wider;
        true
    }

    /// At most `bars` bars `(left edge, right edge, count)` over the range the values span, each
    /// the exact count of the fine bins it covers. Empty when nothing was counted.
    pub fn bars(&self, bars: usize) -> Vec<(f64, f64, u64)> {
        let (Some(first), Some(last)) =
            (self.counts.iter().position(|&c| c > 0), self.counts.iter().rposition(|&c| c > 0))
        else {
            return Vec::new();
        };
        let span = last - first + 1;
        let group = span.div_ceil(bars.max(1));
        (first..=last)
            .step_by(group)
            .map(|start| {
                let end = (start + group).min(last + 1);
                let count = self.counts[start..end].iter().sum();
                (self.lo + start as f64 * self.width, self.lo + end as f64 * self.width, count)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever order values arrive in, every one is counted once and in a bar whose edges hold it.
    #[test]
    fn counts_are_exact_and_bars_hold_their_values() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut values = Vec::new();
        for i in 0..50_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            values.push(if i % 1000 == 0 { -300.0 + u } else { u * 80.0 + 5.0 });
        }
        values.push(f64::NAN);
        let mut h = StreamingHistogram::new();
        h.add_all(values.iter().copied());
        assert_eq!(h.total(), 50_000);
        let bars = h.bars(40);
        assert!(bars.len() <= 40 && !bars.is_empty());
        assert_eq!(bars.iter().map(|b| b.2).sum::<u64>(), 50_000);
        for v in values.iter().filter(|v| v.is_finite()) {
            let hits = bars.iter().filter(|(lo, hi, _)| v >= lo && v < hi).count();
            assert_eq!(hits, 1, "{v} falls in exactly one bar");
        }
        for (lo, hi, count) in &bars {
            let expected = values.iter().filter(|v| *v >= lo && *v < hi).count() as u64;
            assert_eq!(*count, expected);
        }
    }

    #[test]
    fn one_repeated_value_and_nothing_at_all() {
        let mut h = StreamingHistogram::new();
        assert!(h.bars(10).is_empty());
        h.add_all([0.25; 7]);
        assert_eq!(h.bars(10).iter().map(|b| b.2).sum::<u64>(), 7);
        h.add(f64::MAX);
        h.add(-f64::MAX);
        assert!(h.total() >= 7);
    }
}

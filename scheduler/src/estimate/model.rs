//! The random parts of the estimate: a small deterministic generator (the estimate is a pure
//! function of its snapshot, so the same snapshot always gives the same answer) and the
//! handle-time model, which draws fresh handle times and the time still to go of calls in
//! progress from the recent handle times, scaled per agent.

/// How many recent handle times the model needs before it trusts their shape; below that it
/// assumes exponential handle times with a mean blended from the samples and the default.
const MIN_SAMPLES: usize = 10;
/// How many longer calls must be on record to draw the rest of a call from them.
const MIN_TAIL: usize = 8;
/// Pseudo-count pulling an agent's own mean towards everyone's: an agent with this many
/// calls on record counts half their own pace, half everyone's.
const AGENT_SHRINK: f64 = 20.0;

/// SplitMix64: tiny, fast and good enough to resample recent calls.
#[derive(Debug, Clone)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform index below `n` (`n > 0`).
    fn index(&mut self, n: usize) -> usize {
        ((self.unit() * n as f64) as usize).min(n.saturating_sub(1))
    }

    /// Exponential with the given mean (inverse transform).
    pub(super) fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

/// Everyone's recent handle times, in seconds, sorted, or an exponential stand-in.
#[derive(Debug, Clone)]
pub(super) struct HandleModel {
    sorted: Vec<f64>,
    mean: f64,
}

impl HandleModel {
    /// From recent handle times (seconds) and the handle time assumed without history.
    pub(super) fn new(recent: &[f64], default_secs: f64) -> Self {
        let mut sorted: Vec<f64> = recent
            .iter()
            .copied()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mean = if n >= MIN_SAMPLES {
            sorted.iter().sum::<f64>() / n as f64
        } else {
            let missing = (MIN_SAMPLES - n) as f64;
            (sorted.iter().sum::<f64>() + missing * default_secs.max(1.0)) / MIN_SAMPLES as f64
        };
        if n < MIN_SAMPLES {
            sorted.clear();
        }
        Self { sorted, mean }
    }

    /// The mean handle time, in seconds.
    #[cfg(test)]
    pub(super) fn mean(&self) -> f64 {
        self.mean
    }

    /// An agent's pace relative to everyone's (1 = average, 1.2 = 20 % slower), from their
    /// own recent handle times, shrunk towards 1 when they have few.
    pub(super) fn pace(&self, own: &[f64]) -> f64 {
        let own: Vec<f64> = own
            .iter()
            .copied()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .collect();
        if own.is_empty() || self.mean <= 0.0 {
            return 1.0;
        }
        let n = own.len() as f64;
        let own_mean = own.iter().sum::<f64>() / n;
        (n * own_mean + AGENT_SHRINK * self.mean) / ((n + AGENT_SHRINK) * self.mean)
    }

    /// A fresh handle time for an agent of the given pace.
    pub(super) fn draw(&self, pace: f64, rng: &mut Rng) -> f64 {
        if self.sorted.is_empty() {
            return pace * rng.exponential(self.mean);
        }
        pace * self.sorted[rng.index(self.sorted.len())]
    }

    /// The time still to go of a call that has lasted `elapsed` seconds, for an agent of the
    /// given pace: a recent call that lasted longer, minus `elapsed`; past nearly every
    /// recorded call, an exponential tail as long as the longest calls' mean excess.
    pub(super) fn remaining(&self, elapsed: f64, pace: f64, rng: &mut Rng) -> f64 {
        let elapsed = elapsed.max(0.0);
        if self.sorted.is_empty() {
            return pace * rng.exponential(self.mean);
        }
        let threshold = elapsed / pace;
        let from = self.sorted.partition_point(|x| *x <= threshold);
        let longer = self.sorted.len() - from;
        if longer >= MIN_TAIL {
            let pick = self.sorted[from + rng.index(longer)];
            return (pace * pick - elapsed).max(0.0);
        }
        let top = &self.sorted[self.sorted.len().saturating_sub(MIN_TAIL)..];
        let floor = top.first().copied().unwrap_or(0.0);
        let excess = if top.len() > 1 {
            top.iter().map(|x| x - floor).sum::<f64>() / (top.len() - 1) as f64
        } else {
            self.mean
        };
        pace * rng.exponential(excess.max(self.mean * 0.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_repeatable_and_uniform_enough() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<f64> = (0..10_000).map(|_| a.unit()).collect();
        assert!(xs.iter().zip((0..).map(|_| b.unit())).all(|(x, y)| *x == y));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
    }

    #[test]
    fn without_history_handle_times_are_exponential_around_the_default() {
        let m = HandleModel::new(&[], 360.0);
        assert_eq!(m.mean(), 360.0);
        let mut rng = Rng::new(1);
        let n = 20_000;
        let mean = (0..n).map(|_| m.draw(1.0, &mut rng)).sum::<f64>() / f64::from(n);
        assert!((mean - 360.0).abs() < 15.0, "{mean}");
    }

    #[test]
    fn the_rest_of_a_call_comes_from_longer_recorded_calls() {
        let recent: Vec<f64> = (1..=100).map(|i| f64::from(i) * 10.0).collect();
        let m = HandleModel::new(&recent, 360.0);
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            let r = m.remaining(500.0, 1.0, &mut rng);
            assert!((0.0..=500.0).contains(&r), "{r}");
        }
        // Longer than every recorded call: still a positive time to go.
        assert!(m.remaining(5_000.0, 1.0, &mut rng) > 0.0);
    }

    #[test]
    fn a_slow_agent_with_history_has_a_pace_above_one_but_shrunk() {
        let m = HandleModel::new(&[300.0; 50], 360.0);
        let pace = m.pace(&[600.0; 20]);
        assert!(pace > 1.4 && pace < 2.0, "{pace}");
        assert_eq!(m.pace(&[]), 1.0);
    }
}

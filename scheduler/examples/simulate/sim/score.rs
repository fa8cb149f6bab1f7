//! Scores: for each predictor, over the citizens who waited (an agent took them after a wait
//! longer than zero), the relative average squared error RASE = mean((told − waited)²) ÷
//! (mean waited)², the bias mean(told − waited), and the share whose wait fell within
//! ±max(2 min, 25 %) of what they were told; and, when the day closes, what admission by that
//! predictor would have done (refuse when `now + told` reaches closing).

use super::day::Citizen;
use super::predict::Predictor;

/// One predictor's accuracy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Accuracy {
    /// Citizens scored.
    pub n: usize,
    /// Mean squared error ÷ squared mean wait.
    pub rase: f64,
    /// Mean of told − waited, in seconds (positive: told too long).
    pub bias_secs: f64,
    /// Share within ±max(2 min, 25 %) of what was told.
    pub within: f64,
}

/// What admission by one predictor would have done, all days together.
#[derive(Debug, Clone, Copy, Default)]
pub struct Admission {
    /// Citizens it would have refused (too late today).
    pub refused: usize,
    /// Of those, how many were in fact taken before closing.
    pub refused_would_be_served: usize,
    /// Citizens it would have admitted who were taken only after closing.
    pub admitted_not_served: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    n: usize,
    squared: f64,
    error: f64,
    waited: f64,
    within: usize,
}

/// Everything measured over a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Citizens who joined (after warm-up).
    pub citizens: usize,
    /// Of those, who waited and were taken.
    pub waited: usize,
    /// Of those, who gave up.
    pub abandoned: usize,
    /// Admission by each predictor, in [`Predictor::ALL`] order.
    pub admission: [Admission; 3],
    sums: [Sums; 3],
    wait_total: f64,
    in_range: usize,
    in_calibrated: usize,
    below_calibrated: usize,
    uncertain: usize,
}

impl Report {
    /// Adds one day's citizens.
    pub fn add_day(&mut self, citizens: &[Citizen], close: f64) {
        for c in citizens.iter().filter(|c| c.scored) {
            self.citizens += 1;
            self.abandoned += usize::from(c.left);
            if close.is_finite() {
                for (k, a) in self.admission.iter_mut().enumerate() {
                    let refused = c.told.point[k].is_some_and(|p| c.arrived + p >= close);
                    if refused {
                        a.refused += 1;
                        a.refused_would_be_served +=
                            usize::from(c.started.is_some_and(|s| s < close));
                    } else if c.started.is_some_and(|s| s >= close) {
                        a.admitted_not_served += 1;
                    }
                }
            }
            let Some(started) = c.started else { continue };
            let waited = started - c.arrived;
            if waited <= 0.0 {
                continue;
            }
            self.waited += 1;
            self.wait_total += waited;
            for (k, s) in self.sums.iter_mut().enumerate() {
                let Some(told) = c.told.point[k] else {
                    continue;
                };
                let e = told - waited;
                s.n += 1;
                s.squared += e * e;
                s.error += e;
                s.waited += waited;
                s.within += usize::from(e.abs() <= (0.25 * told).max(120.0));
            }
            if let Some((low, high)) = c.told.range {
                self.in_range += usize::from(low <= waited && waited <= high);
                let point = c.told.point[0].unwrap_or(0.0);
                self.uncertain += usize::from(high - low > 2.0 * (0.25 * point).max(120.0));
            }
            if let Some((low, high)) = c.told.calibrated {
                self.in_calibrated += usize::from(low <= waited && waited <= high);
                self.below_calibrated += usize::from(waited < low);
            }
        }
    }

    /// A predictor's accuracy.
    pub fn accuracy(&self, p: Predictor) -> Accuracy {
        let k = Predictor::ALL.iter().position(|x| *x == p).unwrap_or(0);
        let s = self.sums[k];
        if s.n == 0 {
            return Accuracy::default();
        }
        let n = s.n as f64;
        let mean_wait = s.waited / n;
        Accuracy {
            n: s.n,
            rase: (s.squared / n) / (mean_wait * mean_wait),
            bias_secs: s.error / n,
            within: s.within as f64 / n,
        }
    }

    /// Admission by a predictor.
    pub fn admission(&self, p: Predictor) -> Admission {
        let k = Predictor::ALL.iter().position(|x| *x == p).unwrap_or(0);
        self.admission[k]
    }

    /// The mean wait of those who waited, in seconds.
    pub fn mean_wait_secs(&self) -> f64 {
        self.wait_total / (self.waited.max(1) as f64)
    }

    /// Share of waits inside videoreg's range (its low–high).
    pub fn range_coverage(&self) -> f64 {
        self.in_range as f64 / (self.waited.max(1) as f64)
    }

    /// Share of waits inside videoreg's recalibrated range (what citizens are shown).
    pub fn calibrated_coverage(&self) -> f64 {
        self.in_calibrated as f64 / (self.waited.max(1) as f64)
    }

    /// Share of waits below the recalibrated range's low end (nominally 20 %).
    pub fn below_calibrated(&self) -> f64 {
        self.below_calibrated as f64 / (self.waited.max(1) as f64)
    }

    /// Share of citizens who waited whose videoreg range was wide (shown as a range).
    pub fn uncertain_share(&self) -> f64 {
        self.uncertain as f64 / (self.waited.max(1) as f64)
    }
}

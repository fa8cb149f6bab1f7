//! Honest ranges: the replay's 20th–80th percentile range, recalibrated against what
//! happened to recent citizens (split conformal prediction, one tail at a time, per Madrid
//! hour of the day).
//!
//! The replay knows neither about agents who will leave early nor about patience that is not
//! exponential, so its range is too narrow on a real day (it held 49 % of waits on the
//! simulator's burst days against 60 % nominal). For each past citizen who was taken, the
//! raw range they were given (`low`, `high`) is compared with their real wait `y`, in units
//! of `max(point, 1 min)`: the low tail's score is `(low − y) / scale`, the high tail's
//! `(y − high) / scale`. The 80th percentile of each score, `q`, moves that end of the
//! range by `q · scale` (outwards when positive, inwards when negative), so that about one
//! citizen in five waits less than the low end and one in five more than the high end, as
//! the range promises. The point (the mean, which minimises the squared error) is left as it
//! is. Buckets of the Madrid hour of joining with fewer than [`MIN_SAMPLES`] citizens use all
//! hours together; with fewer than that in all, the range stays as the replay gives it.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Timelike, Utc};

use super::Estimate;
use crate::SERVICE_TZ;

/// Fewest past citizens a bucket (an hour, or all hours) needs to be trusted.
pub const MIN_SAMPLES: usize = 100;
/// The share of citizens each end of the range should leave outside it.
const TAIL: f64 = 0.2;

/// A past citizen: the raw estimate they were given at joining and their real wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Told {
    /// When they joined.
    pub at: DateTime<Utc>,
    /// The point they were told.
    pub point: TimeDelta,
    /// The replay's low end, before calibration.
    pub low: TimeDelta,
    /// The replay's high end, before calibration.
    pub high: TimeDelta,
    /// Joined → taken by an agent.
    pub waited: TimeDelta,
}

/// How far each end of the range moves, in units of `max(point, 1 min)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Shift {
    low: f64,
    high: f64,
}

/// The recalibration learnt from recent citizens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calibration {
    /// All hours together (`None`: too few citizens, the range is left alone).
    all: Option<Shift>,
    /// By Madrid hour of joining.
    by_hour: BTreeMap<u32, Shift>,
}

fn secs(d: TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

fn scale(point: TimeDelta) -> f64 {
    secs(point).max(60.0)
}

/// The value with `share` of `values` at or below it (nearest rank), `values` unsorted.
fn quantile(values: &mut [f64], share: f64) -> f64 {
    let rank = ((values.len() as f64 * share).ceil() as usize).clamp(1, values.len());
    *values.select_nth_unstable_by(rank - 1, f64::total_cmp).1
}

fn shift(told: &[&Told]) -> Option<Shift> {
    if told.len() < MIN_SAMPLES {
        return None;
    }
    let (mut low, mut high): (Vec<f64>, Vec<f64>) = told
        .iter()
        .map(|t| {
            let (y, s) = (secs(t.waited), scale(t.point));
            ((secs(t.low) - y) / s, (y - secs(t.high)) / s)
        })
        .unzip();
    Some(Shift {
        low: quantile(&mut low, 1.0 - TAIL),
        high: quantile(&mut high, 1.0 - TAIL),
    })
}

fn hour(at: DateTime<Utc>) -> u32 {
    at.with_timezone(&SERVICE_TZ).hour()
}

impl Calibration {
    /// Learns from `history` (recent citizens who were taken, any order).
    pub fn learn(history: &[Told]) -> Self {
        let all: Vec<&Told> = history.iter().collect();
        let mut hours: BTreeMap<u32, Vec<&Told>> = BTreeMap::new();
        for t in history {
            hours.entry(hour(t.at)).or_default().push(t);
        }
        Self {
            all: shift(&all),
            by_hour: hours
                .into_iter()
                .filter_map(|(h, told)| shift(&told).map(|s| (h, s)))
                .collect(),
        }
    }

    /// Whether anything was learnt (enough citizens).
    pub fn is_learnt(&self) -> bool {
        self.all.is_some()
    }

    /// `e`, told at `at`, with its range recalibrated; the point and the closing flags
    /// computed from it stay; the long end's flag follows the new high end (`closes`).
    pub fn apply(&self, e: Estimate, at: DateTime<Utc>, closes: Option<DateTime<Utc>>) -> Estimate {
        let Some(s) = self.by_hour.get(&hour(at)).copied().or(self.all) else {
            return e;
        };
        let sc = scale(e.point);
        let delta = |x: f64| TimeDelta::milliseconds((x * 1000.0).round() as i64);
        let low = (e.low - delta(s.low * sc)).clamp(TimeDelta::zero(), e.point);
        let high = (e.high + delta(s.high * sc)).max(e.point);
        Estimate {
            low,
            high,
            may_end_after_closing: closes.is_some_and(|c| at + high >= c),
            ..e
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        // 2026-11-26, Madrid hour h (UTC+1).
        DateTime::parse_from_rfc3339(&format!("2026-11-26T{:02}:30:00Z", h - 1))
            .expect("time")
            .to_utc()
    }

    fn estimate(point: i64, low: i64, high: i64) -> Estimate {
        Estimate {
            point: TimeDelta::seconds(point),
            low: TimeDelta::seconds(low),
            high: TimeDelta::seconds(high),
            ends_after_closing: false,
            may_end_after_closing: false,
        }
    }

    /// Citizens told 10 min (9–11) whose real waits spread evenly over 0–20 min.
    fn spread(h: u32, n: usize) -> Vec<Told> {
        (0..n)
            .map(|i| Told {
                at: at(h),
                point: TimeDelta::minutes(10),
                low: TimeDelta::minutes(9),
                high: TimeDelta::minutes(11),
                waited: TimeDelta::seconds((1200 * i / n) as i64),
            })
            .collect()
    }

    fn coverage(c: &Calibration, history: &[Told]) -> f64 {
        let inside = history
            .iter()
            .filter(|t| {
                let e = c.apply(
                    estimate(
                        secs(t.point) as i64,
                        secs(t.low) as i64,
                        secs(t.high) as i64,
                    ),
                    t.at,
                    None,
                );
                e.low <= t.waited && t.waited <= e.high
            })
            .count();
        inside as f64 / history.len() as f64
    }

    #[test]
    fn a_range_too_narrow_widens_until_it_holds_three_in_five() {
        let history = spread(10, 1000);
        let c = Calibration::learn(&history);
        assert!(c.is_learnt());
        let e = c.apply(estimate(600, 540, 660), at(10), None);
        // Waits spread evenly over 0–20 min: the 20th and 80th percentiles are 4 and 16 min.
        assert!((secs(e.low) - 240.0).abs() < 3.0, "{:?}", e.low);
        assert!((secs(e.high) - 960.0).abs() < 3.0, "{:?}", e.high);
        assert_eq!(e.point, TimeDelta::minutes(10));
        assert!((coverage(&c, &history) - 0.6).abs() < 0.01);
    }

    #[test]
    fn a_range_too_wide_narrows_and_never_crosses_the_point() {
        // Told 10 min (0–30), waited 9.5–10.5 min.
        let history: Vec<Told> = (0..200)
            .map(|i| Told {
                at: at(11),
                point: TimeDelta::minutes(10),
                low: TimeDelta::zero(),
                high: TimeDelta::minutes(30),
                waited: TimeDelta::seconds(570 + (60 * i / 200) as i64),
            })
            .collect();
        let c = Calibration::learn(&history);
        let e = c.apply(estimate(600, 0, 1800), at(11), None);
        assert!(e.low > TimeDelta::minutes(9) && e.low <= e.point, "{e:?}");
        assert!(
            e.high < TimeDelta::minutes(11) && e.high >= e.point,
            "{e:?}"
        );
    }

    #[test]
    fn each_hour_learns_its_own_and_thin_hours_use_all_hours() {
        let mut history = spread(9, 500);
        // At 12:00 waits are exactly as told: the range needs no widening.
        history.extend((0..500).map(|_| Told {
            at: at(12),
            point: TimeDelta::minutes(10),
            low: TimeDelta::minutes(9),
            high: TimeDelta::minutes(11),
            waited: TimeDelta::minutes(10),
        }));
        let c = Calibration::learn(&history);
        let nine = c.apply(estimate(600, 540, 660), at(9), None);
        let noon = c.apply(estimate(600, 540, 660), at(12), None);
        assert!(nine.high - nine.low > TimeDelta::minutes(8), "{nine:?}");
        assert!(noon.high - noon.low <= TimeDelta::minutes(2), "{noon:?}");
        // 13:00 has nobody: all hours together.
        let one = c.apply(estimate(600, 540, 660), at(13), None);
        assert!(one.high - one.low > noon.high - noon.low);
    }

    #[test]
    fn too_few_citizens_leave_the_range_alone_and_closing_follows_the_high_end() {
        let c = Calibration::learn(&spread(10, MIN_SAMPLES - 1));
        assert!(!c.is_learnt());
        let e = estimate(600, 540, 660);
        assert_eq!(c.apply(e, at(10), None), e);
        let c = Calibration::learn(&spread(10, 1000));
        let closes = Some(at(10) + TimeDelta::minutes(15));
        assert!(c.apply(e, at(10), closes).may_end_after_closing);
    }
}

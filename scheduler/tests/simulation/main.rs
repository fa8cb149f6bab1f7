//! The simulator at a small size, so that a broken simulator (or estimator) fails CI: in a
//! stationary M/M/s queue the queue-length estimate's RASE must match the analytic `1 − ρ`,
//! videoreg's estimator must match it there too, HOL must do worse, the same seed must give
//! the same figures, and on burst days videoreg's estimator must beat QL and HOL.

#[allow(dead_code)]
#[path = "../../examples/simulate/sim/mod.rs"]
mod sim;

use sim::{Kind, Predictor, Scenario};

fn mmc(seed: u64) -> Scenario {
    Scenario {
        seed,
        days: 40,
        hours: 24.0,
        warmup_hours: 3.0,
        ..Scenario::new(Kind::Mmc)
    }
}

#[test]
fn in_mms_the_queue_length_estimate_has_rase_one_minus_rho_and_hol_trails_it() {
    let s = Scenario {
        videoreg: false,
        ..mmc(11)
    };
    let report = sim::run(&s);
    let ql = report.accuracy(Predictor::Ql);
    let hol = report.accuracy(Predictor::Hol);
    let optimal = 1.0 - s.rho;
    assert!(ql.n > 10_000, "too few citizens waited: {}", ql.n);
    assert!(
        (ql.rase - optimal).abs() < 0.025,
        "QL RASE {} vs 1 − ρ = {optimal}",
        ql.rase
    );
    assert!(
        hol.rase > 1.3 * ql.rase,
        "HOL {} should trail QL {}",
        hol.rase,
        ql.rase
    );
    for a in [ql, hol] {
        assert!((0.5..=1.0).contains(&a.within), "within share {}", a.within);
        assert!(a.bias_secs.abs() < 60.0, "bias {} s", a.bias_secs);
    }
    assert_eq!(report.abandoned, 0, "nobody gives up in M/M/s");
    assert_eq!(report.accuracy(Predictor::Videoreg).n, 0, "not asked");
}

#[test]
fn in_mms_videoreg_reduces_to_the_queue_length_estimate() {
    let s = Scenario {
        days: 2,
        hours: 12.0,
        history: 500,
        ..mmc(12)
    };
    let report = sim::run(&s);
    let ql = report.accuracy(Predictor::Ql);
    let ours = report.accuracy(Predictor::Videoreg);
    assert!(ours.n > 1_000, "{}", ours.n);
    assert!(
        ours.rase < ql.rase + 0.1 * (1.0 - s.rho),
        "videoreg {} vs QL {}",
        ours.rase,
        ql.rase
    );
    assert!((ours.within - ql.within).abs() < 0.03);
}

#[test]
fn the_same_seed_gives_the_same_figures() {
    let s = Scenario {
        days: 1,
        hours: 4.0,
        warmup_hours: 1.0,
        ..mmc(5)
    };
    let (a, b) = (sim::run(&s), sim::run(&s));
    assert_eq!(a.citizens, b.citizens);
    for p in Predictor::ALL {
        assert_eq!(a.accuracy(p).rase, b.accuracy(p).rase);
    }
}

#[test]
fn on_burst_days_videoreg_beats_ql_and_hol() {
    let s = Scenario {
        seed: 3,
        days: 4,
        ..Scenario::new(Kind::Burst)
    };
    let report = sim::run(&s);
    let ours = report.accuracy(Predictor::Videoreg);
    assert!(ours.n > 1_000, "{}", ours.n);
    assert!(report.abandoned > 0, "some citizens give up");
    videoreg_ahead_of_ql_and_hol(&report);
    for p in Predictor::ALL {
        let a = report.admission(p);
        assert!(a.refused_would_be_served <= a.refused);
        assert!(a.refused + a.admitted_not_served <= report.citizens);
    }
}

#[test]
fn recalibrated_ranges_hold_about_three_waits_in_five_on_burst_days() {
    let s = Scenario {
        seed: 3,
        days: 4,
        ..Scenario::new(Kind::Burst)
    };
    let report = sim::run(&s);
    let (raw, calibrated) = (report.range_coverage(), report.calibrated_coverage());
    assert!(
        (calibrated - 0.60).abs() <= 0.05,
        "recalibrated {calibrated} (the replay's own {raw})"
    );
    assert!(raw < calibrated, "the replay's range is too narrow: {raw}");
}

#[test]
fn with_half_the_citizens_booked_videoreg_beats_ql_and_hol_and_its_range_holds() {
    let s = Scenario {
        seed: 3,
        days: 8,
        ..Scenario::new(Kind::Appointments)
    };
    let report = sim::run(&s);
    let ours = report.accuracy(Predictor::Videoreg);
    assert!(ours.n > 2_000, "{}", ours.n);
    videoreg_ahead_of_ql_and_hol(&report);
    let calibrated = report.calibrated_coverage();
    assert!(
        (calibrated - 0.60).abs() <= 0.05,
        "recalibrated {calibrated}"
    );
}

/// videoreg's RASE below, and its within-share above, those of QL and HOL.
fn videoreg_ahead_of_ql_and_hol(report: &sim::Report) {
    let ours = report.accuracy(Predictor::Videoreg);
    for other in [Predictor::Ql, Predictor::Hol] {
        let a = report.accuracy(other);
        assert!(
            ours.rase < a.rase,
            "RASE: videoreg {} vs {} {}",
            ours.rase,
            other.name(),
            a.rase
        );
        assert!(
            ours.within > a.within,
            "within: videoreg {} vs {} {}",
            ours.within,
            other.name(),
            a.within
        );
    }
}

//! Replays simulated service days against videoreg's wait estimator and the classic QL and HOL
//! predictors, and prints how accurate each was (see `docs/estimates.md`).
//!
//! ```text
//! cargo run --release -p scheduler --example simulate -- --scenario burst --seed 1 --days 40
//! cargo run --release -p scheduler --example simulate -- --scenario mmc --rho 0.9 --agents 10
//! ```

mod sim;

use std::process::ExitCode;
use std::time::Instant;

use sim::{Kind, Predictor, Scenario};

const USAGE: &str = "usage: simulate [--scenario mmc|burst|appointments] [--seed N] [--days N] [--agents N] \
[--rho X] [--history N] [--hours X] [--warmup-hours X] [--classic-only]";

fn parse(args: &[String]) -> Result<Scenario, String> {
    let kind = match value(args, "--scenario").as_deref() {
        None | Some("burst") => Kind::Burst,
        Some("mmc" | "mms") => Kind::Mmc,
        Some("appointments") => Kind::Appointments,
        Some(other) => return Err(format!("unknown scenario {other:?}")),
    };
    let mut s = Scenario::new(kind);
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        let v = args.get(i + 1).map(String::as_str).unwrap_or_default();
        let bad = || format!("{flag}: invalid value {v:?}");
        match flag {
            "--scenario" => {}
            "--seed" => s.seed = v.parse().map_err(|_| bad())?,
            "--days" => s.days = v.parse().map_err(|_| bad())?,
            "--agents" => s.agents = v.parse().map_err(|_| bad())?,
            "--history" => s.history = v.parse().map_err(|_| bad())?,
            "--rho" => s.rho = v.parse::<f64>().map_err(|_| bad())?,
            "--hours" => s.hours = v.parse::<f64>().map_err(|_| bad())?,
            "--classic-only" => {
                s.videoreg = false;
                i += 1;
                continue;
            }
            "--warmup-hours" => s.warmup_hours = v.parse::<f64>().map_err(|_| bad())?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown flag {other:?}")),
        }
        i += 2;
    }
    if s.agents == 0 || !(s.rho > 0.0 && s.rho < 1.0) {
        return Err("need at least one agent and 0 < rho < 1".into());
    }
    Ok(s)
}

fn value(args: &[String], flag: &str) -> Option<String> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1).cloned()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = match parse(&args) {
        Ok(s) => s,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let report = sim::run(&scenario);
    println!("{scenario:?}");
    println!(
        "citizens {}, waited {}, gave up {}, mean wait of those who waited {:.1} min",
        report.citizens,
        report.waited,
        report.abandoned,
        report.mean_wait_secs() / 60.0
    );
    if scenario.kind == Kind::Mmc {
        println!(
            "analytic RASE of QL in M/M/s: 1 - rho = {:.3}",
            1.0 - scenario.rho
        );
    }
    println!();
    println!("| predictor | RASE | bias (min) | within ±max(2 min, 25 %) | scored |");
    println!("|---|---|---|---|---|");
    for p in Predictor::ALL {
        let a = report.accuracy(p);
        println!(
            "| {} | {:.3} | {:+.2} | {:.1} % | {} |",
            p.name(),
            a.rase,
            a.bias_secs / 60.0,
            100.0 * a.within,
            a.n
        );
    }
    println!();
    println!(
        "videoreg range (20th–80th percentile, 60 % nominal): the replay's holds {:.1} % of real waits; recalibrated, {:.1} % ({:.1} % below it, {:.1} % above); the replay's is wide (shown as a range) for {:.1} %",
        100.0 * report.range_coverage(),
        100.0 * report.calibrated_coverage(),
        100.0 * report.below_calibrated(),
        100.0 * (1.0 - report.calibrated_coverage() - report.below_calibrated()),
        100.0 * report.uncertain_share()
    );
    if scenario.kind.is_day() {
        println!();
        println!(
            "| admission by | refused | refused but taken before 14:00 | admitted but taken after 14:00 |"
        );
        println!("|---|---|---|---|");
        for p in Predictor::ALL {
            let a = report.admission(p);
            println!(
                "| {} | {} | {} | {} |",
                p.name(),
                a.refused,
                a.refused_would_be_served,
                a.admitted_not_served
            );
        }
    }
    println!();
    println!("({:.1} s)", started.elapsed().as_secs_f64());
    ExitCode::SUCCESS
}

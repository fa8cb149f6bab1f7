//! What the soak prints: the plan, every sample, each figure's start, end, maximum and
//! value after the day, the load-corrected slopes, the tickets' end states and the tally of
//! what citizens and staff went through.

use super::sampler::{self, Growth, Sample};
use super::{Day, Plan};

#[allow(clippy::too_many_arguments, reason = "one report of one run")]
pub fn report(
    plan: &Plan,
    day: &Day,
    samples: &[Sample],
    baseline: &Sample,
    after: &Sample,
    growth: &[Growth],
    (load_from, load_to, served_by): (f64, f64, f64),
    outcomes: &[String],
    warnings: &std::collections::BTreeMap<String, u64>,
    errors: &[String],
) {
    println!("soak: {plan:?}");
    println!(
        "load {load_from:.0}–{load_to:.0} s, everyone done by {served_by:.0} s; server log: {} warnings, {} errors",
        warnings.values().sum::<u64>(),
        errors.len()
    );
    for (message, n) in warnings {
        println!("  server warning ×{n}: {message}");
    }
    println!(
        "{:>6} {:>8} {:>6} {:>5} {:>6} {:>4} {:>8} {:>8}",
        "t(s)", "RSS MiB", "fds", "udp", "tasks", "db", "waiting", "sockets"
    );
    for s in std::iter::once(baseline)
        .chain(samples)
        .chain(std::iter::once(after))
    {
        println!(
            "{:>6.0} {:>8.1} {:>6} {:>5} {:>6} {:>4} {:>8} {:>8}",
            s.t, s.rss_mib, s.fds, s.udp, s.tasks, s.db, s.waiting, s.clients
        );
    }
    for f in sampler::FIGURES.map(|f| f.0) {
        let max = samples.iter().map(|s| s.get(f)).fold(f64::MIN, f64::max);
        println!(
            "{f}: start {:.1}, end {:.1}, max {max:.1}, after {:.1}",
            baseline.get(f),
            samples.last().map_or(0.0, |s| s.get(f)),
            after.get(f)
        );
    }
    for g in growth {
        println!(
            "{}: {:.2} per open socket; corrected, slope first half {:+.2}/min, second half {:+.2}/min, second half grew {:+.1} (tolerance {:.1}){}",
            g.figure,
            g.per_socket,
            g.first_slope,
            g.second_slope,
            g.second_growth,
            g.tolerance,
            if g.unbounded { " UNBOUNDED" } else { "" }
        );
    }
    println!("tickets: {}", outcomes.join(", "));
    for (k, v) in day.tally.lock().expect("lock").iter() {
        println!("  {k}: {v}");
    }
    for e in errors.iter().take(10) {
        println!("server error: {e}");
    }
}

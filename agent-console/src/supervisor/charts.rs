//! The dashboard's charts as SVG, drawn on the server in the viewer's language: the queue
//! and available agents over the day, each answered citizen's told and real wait, and the
//! day's decisions. Only presentation attributes are used (no `style`), so the strict
//! Content-Security-Policy holds; every text is escaped.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use scheduler::metrics::{
    AgentPhase, AgentTimeline, Outcomes, SeriesPoint, TicketFacts, agents_in_state_steps,
    queue_steps, within_tolerance,
};

use super::day::DayFacts;
use super::madrid_hm;
use crate::i18n::Lang;

const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 30.0;
/// Citizens shown at most on the waits chart (the latest).
const MAX_CITIZENS: usize = 40;

const WAITING: &str = "#c0392b";
const AVAILABLE: &str = "#1e7b34";
const TOLD: &str = "#1f4e9c";
const WITHIN: &str = "#5d9c6b";
const OUTSIDE: &str = "#d68910";
const REJECTED: &str = "#b03a2e";
const GRID: &str = "#d5d8dc";
const INK: &str = "#222";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn open(out: &mut String, title: &str) {
    let t = esc(title);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{t}" font-family="system-ui, sans-serif" font-size="12"><title>{t}</title><rect width="{W}" height="{H}" fill="#fff"/><text x="{LEFT}" y="18" font-size="14" font-weight="bold" fill="{INK}">{t}</text>"##
    );
}

fn text(out: &mut String, x: f64, y: f64, anchor: &str, fill: &str, s: &str) {
    let _ = write!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" fill="{fill}">{}</text>"#,
        esc(s)
    );
}

/// A round upper bound for the y axis and its grid step.
fn scale(max: f64) -> (f64, f64) {
    let max = max.max(4.0);
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw)
        .max(1.0);
    ((max / step).ceil() * step, step)
}

fn y_grid(out: &mut String, top: f64, step: f64) {
    let mut v = 0.0;
    while v <= top + f64::EPSILON {
        let y = H - BOTTOM - v / top * (H - TOP - BOTTOM);
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{GRID}"/>"#,
            W - RIGHT
        );
        text(out, LEFT - 6.0, y + 4.0, "end", INK, &format!("{v}"));
        v += step;
    }
}

fn legend(out: &mut String, items: &[(&str, &str)]) {
    let mut x = W - RIGHT;
    for (color, label) in items.iter().rev() {
        x -= 14.0 + 7.0 * label.chars().count() as f64;
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="27" width="10" height="10" fill="{color}"/>"#
        );
        text(out, x + 14.0, 36.0, "start", INK, label);
        x -= 10.0;
    }
}

fn polyline(
    out: &mut String,
    points: &[SeriesPoint],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    top: f64,
    color: &str,
) {
    let span = (to - from).num_milliseconds().max(1) as f64;
    let x =
        |t: DateTime<Utc>| LEFT + (t - from).num_milliseconds() as f64 / span * (W - LEFT - RIGHT);
    let y = |v: u32| H - BOTTOM - f64::from(v) / top * (H - TOP - BOTTOM);
    let mut d = String::new();
    let mut last: Option<u32> = None;
    for p in points {
        if let Some(prev) = last {
            // Steps: the count holds until the next change.
            let _ = write!(d, "{:.1},{:.1} ", x(p.at), y(prev));
        }
        let _ = write!(d, "{:.1},{:.1} ", x(p.at), y(p.value));
        last = Some(p.value);
    }
    let _ = write!(
        out,
        r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2.5"/>"#,
        d.trim_end()
    );
}

/// Citizens waiting and agents available from `from` to `to`.
pub fn queue_chart(lang: Lang, facts: &DayFacts, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let waiting = queue_steps(&facts.tickets, from, to);
    let timelines: Vec<AgentTimeline> = facts.timelines.values().cloned().collect();
    let available = agents_in_state_steps(&timelines, AgentPhase::Available, from, to);
    let max = waiting
        .iter()
        .chain(&available)
        .map(|p| p.value)
        .max()
        .unwrap_or(0);
    let (top, step) = scale(f64::from(max));
    let mut out = String::new();
    open(
        &mut out,
        lang.pick(
            "Cola y agentes disponibles hoy",
            "Queue and available agents today",
        ),
    );
    legend(
        &mut out,
        &[
            (WAITING, lang.pick("en espera", "waiting")),
            (
                AVAILABLE,
                lang.pick("agentes disponibles", "agents available"),
            ),
        ],
    );
    y_grid(&mut out, top, step);
    for i in 0..=4 {
        let t = from + (to - from) * i / 4;
        let x = LEFT + f64::from(i) / 4.0 * (W - LEFT - RIGHT);
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        text(&mut out, x, H - 10.0, anchor, INK, &madrid_hm(t));
    }
    polyline(&mut out, &available, from, to, top, AVAILABLE);
    polyline(&mut out, &waiting, from, to, top, WAITING);
    out.push_str("</svg>");
    out
}

/// Each answered citizen (the latest ones): the real wait as a bar (green within the
/// tolerance, amber outside), the wait told as a blue mark with the tolerance as whiskers.
pub fn waits_chart(lang: Lang, tickets: &[TicketFacts]) -> String {
    let mut answered: Vec<(f64, f64, bool)> = tickets
        .iter()
        .filter_map(|t| {
            let waited = t.waited()?;
            let told = chrono::TimeDelta::seconds(t.told_estimate_secs?);
            Some((
                told.num_seconds() as f64 / 60.0,
                waited.num_seconds() as f64 / 60.0,
                within_tolerance(told, waited),
            ))
        })
        .collect();
    if answered.len() > MAX_CITIZENS {
        answered.drain(..answered.len() - MAX_CITIZENS);
    }
    let mut out = String::new();
    open(
        &mut out,
        lang.pick(
            "Espera anunciada y real por ciudadano (min)",
            "Told and real wait per citizen (min)",
        ),
    );
    legend(
        &mut out,
        &[
            (TOLD, lang.pick("anunciada", "told")),
            (WITHIN, lang.pick("real, dentro", "real, within")),
            (OUTSIDE, lang.pick("real, fuera", "real, outside")),
        ],
    );
    if answered.is_empty() {
        text(
            &mut out,
            W / 2.0,
            H / 2.0,
            "middle",
            INK,
            lang.pick(
                "Aún no se ha atendido a nadie con espera anunciada.",
                "Nobody told a wait has been answered yet.",
            ),
        );
        out.push_str("</svg>");
        return out;
    }
    let tolerance = |told: f64| (told / 4.0).max(2.0);
    let max = answered
        .iter()
        .map(|(told, real, _)| real.max(told + tolerance(*told)))
        .fold(0.0, f64::max);
    let (top, step) = scale(max);
    y_grid(&mut out, top, step);
    let slot = (W - LEFT - RIGHT) / answered.len() as f64;
    let y = |v: f64| H - BOTTOM - v / top * (H - TOP - BOTTOM);
    for (i, (told, real, within)) in answered.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let bar = (slot * 0.6).min(28.0);
        let cx = x + slot / 2.0;
        let color = if *within { WITHIN } else { OUTSIDE };
        let _ = write!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="{color}"/>"#,
            cx - bar / 2.0,
            y(*real),
            (H - BOTTOM - y(*real)).max(0.5)
        );
        let (lo, hi) = (
            y((told - tolerance(*told)).max(0.0)),
            y(told + tolerance(*told)),
        );
        let _ = write!(
            out,
            r#"<line x1="{cx:.1}" x2="{cx:.1}" y1="{lo:.1}" y2="{hi:.1}" stroke="{TOLD}" stroke-width="1.5"/>"#
        );
        let _ = write!(
            out,
            r#"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{TOLD}" stroke-width="3"/>"#,
            cx - bar / 2.0 - 3.0,
            cx + bar / 2.0 + 3.0,
            y(*told),
            y(*told)
        );
        if answered.len() <= 20 || i % 5 == 0 {
            text(&mut out, cx, H - 10.0, "middle", INK, &format!("{}", i + 1));
        }
    }
    out.push_str("</svg>");
    out
}

/// The day's decisions as horizontal bars: approvals, each rejection reason, each abort reason.
pub fn outcomes_chart(lang: Lang, outcomes: &Outcomes) -> String {
    let mut bars: Vec<(String, u32, &str)> = vec![(
        lang.pick("aprobadas", "approved").to_owned(),
        outcomes.approved,
        AVAILABLE,
    )];
    for (reason, n) in &outcomes.rejected {
        bars.push((
            format!("{}: {reason}", lang.pick("rechazo", "rejected")),
            *n,
            REJECTED,
        ));
    }
    for (reason, n) in &outcomes.aborted {
        bars.push((
            format!("{}: {reason}", lang.pick("interrumpida", "aborted")),
            *n,
            OUTSIDE,
        ));
    }
    let mut out = String::new();
    open(
        &mut out,
        lang.pick("Decisiones de hoy", "Today's decisions"),
    );
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let label_w = 210.0;
    let row = ((H - TOP - 8.0) / bars.len() as f64).min(28.0);
    for (i, (label, n, color)) in bars.iter().enumerate() {
        let y = TOP + row * i as f64;
        text(&mut out, label_w - 8.0, y + row * 0.65, "end", INK, label);
        let width = f64::from(*n) / f64::from(max) * (W - label_w - 50.0);
        let _ = write!(
            out,
            r#"<rect x="{label_w}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"/>"#,
            y + row * 0.15,
            width.max(1.0),
            row * 0.7
        );
        text(
            &mut out,
            label_w + width + 6.0,
            y + row * 0.65,
            "start",
            INK,
            &n.to_string(),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_get_round_bounds() {
        assert_eq!(scale(0.0), (4.0, 1.0));
        assert_eq!(scale(7.0), (8.0, 2.0));
        assert_eq!(scale(23.0), (25.0, 5.0));
    }

    #[test]
    fn reason_codes_are_escaped_and_both_languages_read() {
        let mut o = Outcomes::default();
        o.rejected.insert("<script>".into(), 2);
        o.approved = 3;
        let es = outcomes_chart(Lang::Es, &o);
        assert!(es.contains("&lt;script&gt;") && !es.contains("<script>"));
        assert!(es.contains("Decisiones de hoy") && es.contains("aprobadas"));
        assert!(outcomes_chart(Lang::En, &o).contains("Today&#39;s decisions"));
        assert!(!es.contains("style="), "no inline style under the CSP");
    }
}

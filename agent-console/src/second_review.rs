//! Which approvals a second person reviews (four eyes): every approval by an agent still in
//! their first decisions, every approval whose test call or call was of poor quality, and a
//! random share of the rest. A pure rule over what the decision knows; the draw is a
//! parameter so that it can be tested.

/// How approvals are chosen for review, fixed at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewPolicy {
    /// The share of other approvals reviewed, in percent (0–100).
    pub sample_percent: u32,
    /// An agent's first this many approvals are all reviewed.
    pub new_agent_approvals: u32,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        Self {
            sample_percent: 10,
            new_agent_approvals: 20,
        }
    }
}

/// What an approval is known by when it is made.
#[derive(Debug, Clone, Copy, Default)]
pub struct Approval<'a> {
    /// The agent's approvals before this one.
    pub earlier_approvals: i64,
    /// The test call's verdict as the citizen's browser gave it (`good`, `fair`, `poor`).
    pub test_call_verdict: Option<&'a str>,
    /// Whether the citizen's side of the call was poor when the decision was made.
    pub call_poor: bool,
    /// A uniform draw in 0..100.
    pub draw: u32,
}

impl ReviewPolicy {
    /// Why the approval goes to review (`new_agent`, `poor_quality`, `sample`), or `None`.
    pub fn sampled_for(&self, a: &Approval<'_>) -> Option<&'static str> {
        if a.earlier_approvals < i64::from(self.new_agent_approvals) {
            Some("new_agent")
        } else if a.call_poor || a.test_call_verdict == Some("poor") {
            Some("poor_quality")
        } else if a.draw < self.sample_percent {
            Some("sample")
        } else {
            None
        }
    }
}

/// A uniform draw in 0..100 from the operating system's random source.
pub fn draw() -> Result<u32, store::Error> {
    store::secrets::random_below(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seasoned(draw: u32) -> Approval<'static> {
        Approval {
            earlier_approvals: 500,
            test_call_verdict: Some("good"),
            call_poor: false,
            draw,
        }
    }

    #[test]
    fn the_sample_share_takes_draws_below_it() {
        let p = ReviewPolicy {
            sample_percent: 10,
            new_agent_approvals: 0,
        };
        assert_eq!(p.sampled_for(&seasoned(9)), Some("sample"));
        assert_eq!(p.sampled_for(&seasoned(10)), None);
        let all = ReviewPolicy {
            sample_percent: 100,
            ..p
        };
        assert!((0..100).all(|d| all.sampled_for(&seasoned(d)).is_some()));
        let none = ReviewPolicy {
            sample_percent: 0,
            ..p
        };
        assert!((0..100).all(|d| none.sampled_for(&seasoned(d)).is_none()));
    }

    #[test]
    fn new_agents_and_poor_calls_are_always_reviewed() {
        let p = ReviewPolicy {
            sample_percent: 0,
            new_agent_approvals: 20,
        };
        let new = Approval {
            earlier_approvals: 19,
            ..seasoned(99)
        };
        assert_eq!(p.sampled_for(&new), Some("new_agent"));
        let twentieth = Approval {
            earlier_approvals: 20,
            ..seasoned(99)
        };
        assert_eq!(p.sampled_for(&twentieth), None);
        let poor_test = Approval {
            test_call_verdict: Some("poor"),
            ..twentieth
        };
        assert_eq!(p.sampled_for(&poor_test), Some("poor_quality"));
        let poor_call = Approval {
            call_poor: true,
            ..twentieth
        };
        assert_eq!(p.sampled_for(&poor_call), Some("poor_quality"));
    }

    #[test]
    fn draws_stay_below_one_hundred() {
        assert!((0..1000).all(|_| draw().expect("random") < 100));
    }
}

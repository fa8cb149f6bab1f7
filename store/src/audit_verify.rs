//! Checking the audit chain: every event from the first carries a hash that links it to the
//! one before; the head's id, hash and count agree with the chain; and, given an
//! [`AuditAnchor`] kept outside the database, the chain still holds the anchored event.
//!
//! A chain rewritten in full by someone with write access to the database and the hashing
//! scheme verifies on its own; only an anchor kept elsewhere shows it (its count-th event's
//! hash differs, or the chain is shorter than its count).

use sqlx::Row;

use crate::audit::{GENESIS_HASH, NewAuditEvent, event_from_row, link_hash};
use crate::{Error, Result, Store};

/// How many events a verification reads per query.
const VERIFY_PAGE: i64 = 1000;

/// The head of the chain at one moment: how many events it held and the newest one's hash.
/// Printed by `videoreg audit anchor` as `COUNT:HASH`, to be kept outside the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAnchor {
    /// Events in the chain.
    pub count: u64,
    /// The hash of the newest of them (the genesis hash when there are none).
    pub hash: String,
}

impl std::fmt::Display for AuditAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.count, self.hash)
    }
}

impl std::str::FromStr for AuditAnchor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("invalid anchor {s:?}: expected COUNT:HASH as `audit anchor` prints it");
        let (count, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let count = count.parse().map_err(|_| bad())?;
        let hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex {
            return Err(bad());
        }
        Ok(Self {
            count,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// What a check of the whole chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Events whose link verified.
    pub checked: u64,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The first event that does not verify (for a missing newest event: the head's id).
    pub id: i64,
    /// What is wrong, in words.
    pub problem: String,
}

/// The walk along the chain: the last verified link and the anchor to meet on the way.
struct Walk<'a> {
    checked: u64,
    last: Option<(i64, String)>,
    anchor: Option<&'a AuditAnchor>,
}

impl Walk<'_> {
    /// Checks one row; `Err` names the problem.
    fn step(&mut self, r: &sqlx::any::AnyRow) -> Result<Result<(), (i64, &'static str)>> {
        let e = event_from_row(r)?;
        let prev_hash: Option<String> = r.try_get("prev_hash")?;
        let hash: Option<String> = r.try_get("hash")?;
        let (Some(prev_hash), Some(hash)) = (prev_hash, hash) else {
            return Ok(Err((
                e.id,
                "the event carries no hash (every event is chained from the first: its hash was removed, or it was written around the chain)",
            )));
        };
        let expected_prev = self.last.as_ref().map_or(GENESIS_HASH, |(_, h)| h.as_str());
        if prev_hash != expected_prev {
            return Ok(Err((
                e.id,
                "its previous hash does not match the event before it (an event before it was deleted, inserted or edited)",
            )));
        }
        let event = NewAuditEvent {
            at: e.at,
            actor: &e.actor,
            action: &e.action,
            subject: &e.subject,
            detail: &e.detail,
        };
        if link_hash(&prev_hash, &event) != hash {
            return Ok(Err((e.id, "its content does not match its hash (edited)")));
        }
        self.checked += 1;
        if let Some(a) = self.anchor.filter(|a| a.count == self.checked)
            && a.hash != hash
        {
            return Ok(Err((
                e.id,
                "it is the anchor's event by count, but its hash is not the anchor's (the chain was rewritten or events before it were removed)",
            )));
        }
        self.last = Some((e.id, hash));
        Ok(Ok(()))
    }
}

impl Store {
    /// Recomputes the whole chain, page by page, and names the first broken link.
    pub async fn verify_audit_chain(&self) -> Result<ChainReport> {
        self.verify_audit_chain_against(None).await
    }

    /// Recomputes the whole chain and also checks it against an anchor taken earlier: the
    /// chain must hold at least the anchor's count of events, the one at that count with
    /// the anchor's hash.
    pub async fn verify_audit_chain_against(
        &self,
        anchor: Option<&AuditAnchor>,
    ) -> Result<ChainReport> {
        Ok(self.walk_audit_chain(anchor).await?.0)
    }

    /// The chain's report and, when it verifies, the hash of its newest event as the walk
    /// saw it (the genesis hash for an empty chain).
    async fn walk_audit_chain(
        &self,
        anchor: Option<&AuditAnchor>,
    ) -> Result<(ChainReport, String)> {
        let mut walk = Walk {
            checked: 0,
            last: None,
            anchor,
        };
        // One snapshot for the walk and the head: on a live server events are appended while
        // the walk runs, and a head read after them would name events the walk never saw.
        // PostgreSQL: a repeatable-read transaction; SQLite: a read transaction holds its
        // snapshot from its first read.
        let mut tx = self.pool.begin().await?;
        if self.backend() == crate::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(VERIFY_PAGE)
            .fetch_all(&mut *tx)
            .await?;
            let Some(r) = rows.last() else { break };
            after = r.try_get("id")?;
            for r in &rows {
                if let Err((id, problem)) = walk.step(r)? {
                    tx.rollback().await?;
                    return Ok((broken(walk.checked, id, problem), String::new()));
                }
            }
        }
        let head = audit_head(&mut tx).await?;
        tx.rollback().await?;
        let hash = head.1.clone();
        Ok((check_head(walk, head)?, hash))
    }

    /// The head of a chain that verifies, to keep outside the database; `Err` with the
    /// broken link's report when the chain does not verify (a broken chain is not anchored).
    pub async fn audit_anchor(&self) -> Result<Result<AuditAnchor, ChainReport>> {
        // The head the walk verified, from its own snapshot: not one read after it.
        let (report, hash) = self.walk_audit_chain(None).await?;
        if report.broken.is_some() {
            return Ok(Err(report));
        }
        Ok(Ok(AuditAnchor {
            count: report.checked,
            hash,
        }))
    }
}

/// The chain's head: the newest event's id and hash, and the number of events.
async fn audit_head(conn: &mut sqlx::AnyConnection) -> Result<(i64, String, u64)> {
    let head = sqlx::query("SELECT last_id, last_hash, event_count FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let count: i64 = head.try_get("event_count")?;
    let count = u64::try_from(count).map_err(|_| Error::Corrupt {
        what: "audit_head.event_count",
        value: count.to_string(),
    })?;
    Ok((head.try_get("last_id")?, head.try_get("last_hash")?, count))
}

/// The head against the chain walked (both from one snapshot), and the anchor's count
/// against the chain's.
fn check_head(walk: Walk<'_>, head: (i64, String, u64)) -> Result<ChainReport> {
    let (head_id, head_hash, head_count) = head;
    let (last_id, last_hash) = walk.last.unwrap_or((0, GENESIS_HASH.to_owned()));
    if head_id != last_id || head_hash != last_hash {
        return Ok(broken(
            walk.checked,
            head_id.max(last_id),
            "the newest events are missing (the chain's head names a later event)",
        ));
    }
    if head_count != walk.checked {
        return Ok(broken(
            walk.checked,
            head_id,
            "the chain's head counts a different number of events than the chain holds",
        ));
    }
    if walk.anchor.is_some_and(|a| a.count > walk.checked) {
        return Ok(broken(
            walk.checked,
            last_id,
            "the chain holds fewer events than the anchor counts (the newest events were deleted)",
        ));
    }
    Ok(ChainReport {
        checked: walk.checked,
        broken: None,
    })
}

fn broken(checked: u64, id: i64, problem: &str) -> ChainReport {
    ChainReport {
        checked,
        broken: Some(BrokenLink {
            id,
            problem: problem.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anchor_reads_back_what_it_prints() {
        let a = AuditAnchor {
            count: 127,
            hash: "ab".repeat(32),
        };
        assert_eq!(a.to_string().parse::<AuditAnchor>(), Ok(a));
        assert!("127".parse::<AuditAnchor>().is_err());
        assert!("x:ab".parse::<AuditAnchor>().is_err());
        assert!(
            format!("1:{}", "zz".repeat(32))
                .parse::<AuditAnchor>()
                .is_err()
        );
    }
}

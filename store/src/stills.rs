//! Document stills: images captured from a citizen's video during a call, stored with their
//! SHA-256 and a thumbnail, each written together with its audit event.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{NewAuditEvent, append_in};
use crate::db::{from_millis, to_millis};
use crate::{Error, Result, Store};

/// What a still shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StillKind {
    /// The identity document's front.
    DocumentFront,
    /// The identity document's back.
    DocumentBack,
    /// The citizen's face.
    Face,
}

impl StillKind {
    /// Every kind, in the order a console shows them.
    pub const ALL: [StillKind; 3] = [Self::DocumentFront, Self::DocumentBack, Self::Face];

    /// The stored (and URL) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DocumentFront => "document_front",
            Self::DocumentBack => "document_back",
            Self::Face => "face",
        }
    }

    /// The kind named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A still to store.
#[derive(Debug, Clone)]
pub struct NewStill<'a> {
    /// Random id.
    pub id: &'a str,
    /// The call's ticket.
    pub ticket_id: &'a str,
    /// What it shows.
    pub kind: StillKind,
    /// The agent who took it.
    pub agent_id: &'a str,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Hex SHA-256 of `image`.
    pub sha256: &'a str,
    /// The re-encoded image.
    pub image: &'a [u8],
    /// Its thumbnail.
    pub thumbnail: &'a [u8],
    /// How good it is, as measured before storing.
    pub quality: Option<StillQuality>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A still's quality figures (what they mean and their thresholds: the console's
/// `still_quality`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StillQuality {
    /// The variance of the Laplacian of the luma, rounded: higher is sharper.
    pub sharpness: u32,
    /// The share of blown-out pixels, in thousandths.
    pub glare_per_mille: u32,
}

/// A stored still, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Still {
    /// Its id.
    pub id: String,
    /// The call's ticket.
    pub ticket_id: String,
    /// What it shows.
    pub kind: StillKind,
    /// The agent who took it.
    pub agent_id: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Hex SHA-256 of the image.
    pub sha256: String,
    /// How good it is (`None` for stills stored before it was measured).
    pub quality: Option<StillQuality>,
    /// When.
    pub at: DateTime<Utc>,
    /// When retention deleted its image (its row stays).
    pub purged_at: Option<DateTime<Utc>>,
}

const STILL_COLUMNS: &str = "id, ticket_id, kind, agent_id, width, height, sha256, sharpness, glare_per_mille, created_at, purged_at";

impl Store {
    /// Stores a still and its audit event in one transaction.
    pub async fn insert_still(&self, s: &NewStill<'_>, audit: &NewAuditEvent<'_>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO stills (id, ticket_id, kind, agent_id, width, height, sha256, image, thumbnail, sharpness, glare_per_mille, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(s.id)
        .bind(s.ticket_id)
        .bind(s.kind.as_str())
        .bind(s.agent_id)
        .bind(i64::from(s.width))
        .bind(i64::from(s.height))
        .bind(s.sha256)
        .bind(s.image)
        .bind(s.thumbnail)
        .bind(s.quality.map(|q| i64::from(q.sharpness)))
        .bind(s.quality.map(|q| i64::from(q.glare_per_mille)))
        .bind(to_millis(s.at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A call's stills, oldest first.
    pub async fn stills_for_ticket(&self, ticket_id: &str) -> Result<Vec<Still>> {
        let sql = format!(
            "SELECT {STILL_COLUMNS} FROM stills WHERE ticket_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ticket_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(still_from_row).collect()
    }

    /// A still with its image (or its thumbnail when `thumbnail`); `None` once retention
    /// deleted it.
    pub async fn still_bytes(&self, id: &str, thumbnail: bool) -> Result<Option<(Still, Vec<u8>)>> {
        let column = if thumbnail { "thumbnail" } else { "image" };
        let sql = format!(
            "SELECT {STILL_COLUMNS}, {column} AS bytes FROM stills WHERE id = $1 AND purged_at IS NULL"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((still_from_row(&r)?, r.try_get::<Vec<u8>, _>("bytes")?)))
            .transpose()
    }
}

fn still_from_row(r: &AnyRow) -> Result<Still> {
    let kind: String = r.try_get("kind")?;
    let figure = |col: &'static str, v: i64| -> Result<u32> {
        u32::try_from(v).map_err(|_| Error::Corrupt {
            what: col,
            value: v.to_string(),
        })
    };
    let dimension = |col: &'static str| -> Result<u32> { figure(col, r.try_get(col)?) };
    let sharpness: Option<i64> = r.try_get("sharpness")?;
    let glare: Option<i64> = r.try_get("glare_per_mille")?;
    let purged: Option<i64> = r.try_get("purged_at")?;
    let quality = match (sharpness, glare) {
        (Some(s), Some(g)) => Some(StillQuality {
            sharpness: figure("stills.sharpness", s)?,
            glare_per_mille: figure("stills.glare_per_mille", g)?,
        }),
        _ => None,
    };
    Ok(Still {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        kind: StillKind::parse(&kind).ok_or(Error::Corrupt {
            what: "stills.kind",
            value: kind,
        })?,
        agent_id: r.try_get("agent_id")?,
        width: dimension("width")?,
        height: dimension("height")?,
        sha256: r.try_get("sha256")?,
        quality,
        at: from_millis("stills.created_at", r.try_get("created_at")?)?,
        purged_at: purged
            .map(|ms| from_millis("stills.purged_at", ms))
            .transpose()?,
    })
}

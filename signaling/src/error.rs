/// Everything signaling can fail with. Socket handlers report these to the peer as a generic
/// `error` message and log them once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] store::Error),
}

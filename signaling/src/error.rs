/// Everything signaling can fail with. Socket handlers report these to the peer as an
/// `error` message and log internal ones once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] store::Error),
    /// The media forwarder failed or refused.
    #[error("media: {0}")]
    Media(#[from] media::Error),
    /// A media message arrived but no call runs for it here.
    #[error("no call in progress")]
    NoCall,
    /// The operating system's random source failed.
    #[error("random source: {0}")]
    Random(String),
    /// A media message or session description could not be read.
    #[error("bad media message: {0}")]
    BadMedia(String),
}

/// What a peer is told while the database cannot be reached.
const UNAVAILABLE_MESSAGE: &str = "El servicio no está disponible en este momento; lo reintentamos enseguida. / The service is temporarily unavailable; retrying shortly.";

impl Error {
    /// Whether the database could not be reached (see [`store::Error::is_unavailable`]): a
    /// temporary failure, told to the peer as `unavailable` so that it retries.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Store(e) if e.is_unavailable())
    }

    /// The code and message a peer is told, or `None` for internal errors.
    pub fn for_peer(&self) -> Option<(&'static str, &'static str)> {
        match self {
            e if e.is_unavailable() => Some(("unavailable", UNAVAILABLE_MESSAGE)),
            Error::NoCall | Error::Media(media::Error::MediaClosed) => Some((
                "no_call",
                "No hay ninguna llamada en curso. / No call is in progress.",
            )),
            Error::BadMedia(_) | Error::Media(media::Error::BadMedia(_)) => Some((
                "bad_media",
                "Descripción de medios no válida. / Invalid media description.",
            )),
            _ => None,
        }
    }
}

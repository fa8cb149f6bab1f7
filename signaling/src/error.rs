/// Everything signaling can fail with. Socket handlers report these to the peer as an
/// `error` message and log internal ones once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] store::Error),
    /// webrtc-rs refused (the media forwarder).
    #[error("webrtc: {0}")]
    Webrtc(String),
    /// No free UDP port in the configured media range.
    #[error("no free UDP port in {0:?}")]
    NoPort(std::ops::RangeInclusive<u16>),
    /// `--media-ip` is a wildcard and no interface has an address to announce.
    #[error("no interface address to announce for media; set --media-ip or --media-announce-ip")]
    NoAddress,
    /// A media thread could not be started.
    #[error("starting a media thread: {0}")]
    MediaThread(std::io::Error),
    /// The media session has ended.
    #[error("the media session has ended")]
    MediaClosed,
    /// A media message arrived but no call runs for it here.
    #[error("no call in progress")]
    NoCall,
    /// The operating system's random source failed.
    #[error("random source: {0}")]
    Random(String),
    /// A media message or session description could not be read or used.
    #[error("bad media message: {0}")]
    BadMedia(String),
}

impl Error {
    /// A webrtc-rs refusal, with its text.
    pub(crate) fn webrtc(e: impl std::fmt::Display) -> Self {
        Self::Webrtc(e.to_string())
    }

    /// The code and message a peer is told, or `None` for internal errors.
    pub fn for_peer(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Error::NoCall | Error::MediaClosed => Some((
                "no_call",
                "No hay ninguna llamada en curso. / No call is in progress.",
            )),
            Error::BadMedia(_) => Some((
                "bad_media",
                "Descripción de medios no válida. / Invalid media description.",
            )),
            _ => None,
        }
    }
}

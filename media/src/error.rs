/// Everything the media forwarder can fail with. `signaling` wraps it in its own error and
/// decides what a browser is told.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// webrtc-rs refused.
    #[error("webrtc: {0}")]
    Webrtc(String),
    /// No free UDP port in the configured media range.
    #[error("no free UDP port in {0:?}")]
    NoPort(std::ops::RangeInclusive<u16>),
    /// `--media-ip` is a wildcard and no interface has an address to announce.
    #[error("no interface address to announce for media; set --media-ip or --media-announce-ip")]
    NoAddress,
    /// The shared media port's sockets could not be taken onto a media thread.
    #[error("the shared media port: {0}")]
    MediaPort(std::io::Error),
    /// A media thread could not be started.
    #[error("starting a media thread: {0}")]
    MediaThread(std::io::Error),
    /// The media session has ended.
    #[error("the media session has ended")]
    MediaClosed,
    /// The call is being recorded already.
    #[error("the call is being recorded already")]
    AlreadyRecording,
    /// A session description or candidate could not be read or used.
    #[error("bad media message: {0}")]
    BadMedia(String),
}

impl Error {
    /// A webrtc-rs refusal, with its text.
    pub(crate) fn webrtc(e: impl std::fmt::Display) -> Self {
        Self::Webrtc(e.to_string())
    }
}

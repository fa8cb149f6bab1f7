//! The recording's file: written under a temporary name through a writer that keeps the
//! first I/O error (libwebm only says that a write failed), then finished, synced, renamed
//! (and the directory synced), and read back for its SHA-256.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use webm::mux::Segment;

use super::RecordedFile;

/// A file writer that keeps the first I/O error (libwebm only says that a write failed) and
/// its own position: libwebm asks for the position around every frame, and asking the
/// buffered file would flush it and seek each time (a write and an `lseek` per frame).
pub(super) struct Keep {
    pub inner: BufWriter<File>,
    pub error: Option<std::io::Error>,
    /// Where the next write goes.
    position: u64,
}

impl Keep {
    fn kept<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r
            && self.error.is_none()
        {
            self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
        }
        r
    }
}

impl Write for Keep {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        if let Ok(n) = &r {
            self.position += *n as u64;
        }
        self.kept(r)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.kept(r)
    }
}

impl Seek for Keep {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let r = self.inner.seek(pos);
        if let Ok(at) = &r {
            self.position = *at;
        }
        self.kept(r)
    }

    fn stream_position(&mut self) -> std::io::Result<u64> {
        Ok(self.position)
    }
}

/// The temporary file (its directory created if need be).
pub(super) fn open(tmp: &Path) -> std::io::Result<Keep> {
    if let Some(dir) = tmp.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = File::create(tmp)?;
    Ok(Keep {
        inner: BufWriter::with_capacity(256 * 1024, file),
        error: None,
        position: 0,
    })
}

/// Hex SHA-256 and size of a file, read in blocks: how a recording is sealed, and how
/// `audit verify` checks it later.
pub fn sha256_of(path: &Path) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut file = File::open(path)?;
    let mut buf = vec![0; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((hex, size))
}

/// Finishes the file, syncs it, renames it to `path`, syncs the directory, and hashes it.
pub(super) fn close(
    segment: Segment<Keep>,
    tmp: &Path,
    path: &Path,
) -> std::io::Result<RecordedFile> {
    let mut keep = match segment.finalize(None) {
        Ok(w) => w.into_inner(),
        Err(w) => {
            let mut keep = w.into_inner();
            return Err(keep
                .error
                .take()
                .unwrap_or_else(|| std::io::Error::other("libwebm could not finish the file")));
        }
    };
    if let Some(e) = keep.error.take() {
        return Err(e);
    }
    let file = keep.inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    let (sha256, size) = sha256_of(path)?;
    Ok(RecordedFile {
        path: path.to_owned(),
        sha256,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_position_is_known_without_flushing_and_follows_writes_and_seeks() {
        let dir = std::env::temp_dir().join(format!("videoreg-keep-{}", std::process::id()));
        let path = dir.join(".a.webm.partial");
        let mut keep = open(&path).expect("open");
        keep.write_all(b"0123456789").expect("write");
        assert_eq!(keep.stream_position().expect("position"), 10);
        assert_eq!(
            std::fs::metadata(&path).expect("file").len(),
            0,
            "still in the buffer: asking the position did not flush"
        );
        assert_eq!(keep.seek(SeekFrom::Start(2)).expect("seek"), 2);
        keep.write_all(b"ab").expect("write");
        assert_eq!(keep.stream_position().expect("position"), 4);
        keep.seek(SeekFrom::End(0)).expect("seek");
        assert_eq!(keep.stream_position().expect("position"), 10);
        keep.flush().expect("flush");
        assert_eq!(std::fs::read(&path).expect("read"), b"01ab456789");
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}

//! Document stills as uploaded by the console: checked, decoded and re-encoded under strict
//! limits before anything is stored.
//!
//! The upload's size is bounded first; its magic bytes must say PNG or JPEG; the decoder
//! runs under `image`'s limits (width, height and allocation), which it checks against the
//! header before allocating pixels, so a small file claiming 30000×30000 pixels costs
//! nothing. The decoded pixels are re-encoded as JPEG: no metadata (EXIF, GPS, comments,
//! colour profiles) survives, only pixels. A thumbnail is made for the console's list, and
//! the still's sharpness and glare are measured ([`crate::still_quality`]).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// Limits on an uploaded still.
#[derive(Debug, Clone)]
pub struct StillLimits {
    /// Largest upload accepted, in bytes.
    pub max_bytes: usize,
    /// Widest image accepted, in pixels.
    pub max_width: u32,
    /// Tallest image accepted, in pixels.
    pub max_height: u32,
    /// Most memory the decoder may allocate, in bytes.
    pub max_alloc: u64,
    /// The thumbnail's longest side, in pixels.
    pub thumbnail_side: u32,
    /// JPEG quality of the stored image (1–100).
    pub quality: u8,
}

impl Default for StillLimits {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_width: 4096,
            max_height: 4096,
            // 4096 × 4096 × 4 bytes, with room for the decoder's own buffers.
            max_alloc: 96 * 1024 * 1024,
            thumbnail_side: 320,
            quality: 90,
        }
    }
}

/// A still ready to store.
#[derive(Debug, Clone)]
pub struct ProcessedStill {
    /// The re-encoded image (JPEG).
    pub image: Vec<u8>,
    /// Its thumbnail (JPEG).
    pub thumbnail: Vec<u8>,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Sharpness and glare ([`crate::still_quality`]).
    pub quality: store::StillQuality,
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StillError {
    /// Empty upload.
    #[error("the upload is empty")]
    Empty,
    /// Over `max_bytes`.
    #[error("the upload is larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The magic bytes are not PNG's or JPEG's.
    #[error("not a PNG or JPEG image")]
    NotPngOrJpeg,
    /// Wider or taller than allowed, or would need too much memory.
    #[error("the image is larger than {max_width}×{max_height} pixels")]
    TooManyPixels {
        /// The width limit.
        max_width: u32,
        /// The height limit.
        max_height: u32,
    },
    /// Truncated or corrupt.
    #[error("the image could not be decoded: {0}")]
    Undecodable(String),
    /// Re-encoding failed.
    #[error("the image could not be re-encoded: {0}")]
    Encode(String),
}

/// Checks, decodes and re-encodes an upload. CPU-bound: call it off the async runtime.
pub fn process(bytes: &[u8], limits: &StillLimits) -> Result<ProcessedStill, StillError> {
    if bytes.is_empty() {
        return Err(StillError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(StillError::TooLarge {
            max: limits.max_bytes,
        });
    }
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
        _ => return Err(StillError::NotPngOrJpeg),
    };
    let too_many = || StillError::TooManyPixels {
        max_width: limits.max_width,
        max_height: limits.max_height,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = Limits::default();
    decoder_limits.max_image_width = Some(limits.max_width);
    decoder_limits.max_image_height = Some(limits.max_height);
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => too_many(),
        other => StillError::Undecodable(other.to_string()),
    })?;
    let (width, height) = (decoded.width(), decoded.height());
    if width == 0 || height == 0 {
        return Err(StillError::Undecodable("no pixels".into()));
    }
    let rgb = DynamicImage::ImageRgb8(decoded.to_rgb8());
    let image = jpeg(&rgb, limits.quality)?;
    let side = limits.thumbnail_side.max(16);
    let thumbnail = jpeg(&rgb.thumbnail(side, side), 80)?;
    Ok(ProcessedStill {
        image,
        thumbnail,
        width,
        height,
        quality: crate::still_quality::measure(&rgb),
    })
}

fn jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, StillError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode_image(img)
        .map_err(|e| StillError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, RgbImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    #[test]
    fn a_png_is_re_encoded_as_jpeg_with_a_thumbnail() {
        let out = process(&png(640, 480), &StillLimits::default()).unwrap();
        assert_eq!((out.width, out.height), (640, 480));
        assert_eq!(image::guess_format(&out.image).unwrap(), ImageFormat::Jpeg);
        let thumb = image::load_from_memory(&out.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 240));
    }

    #[test]
    fn empty_oversized_and_foreign_uploads_are_refused_before_decoding() {
        let limits = StillLimits {
            max_bytes: 100,
            ..StillLimits::default()
        };
        assert_eq!(process(&[], &limits).unwrap_err(), StillError::Empty);
        assert_eq!(
            process(&[0x89; 101], &limits).unwrap_err(),
            StillError::TooLarge { max: 100 }
        );
        assert_eq!(
            process(b"GIF89a....", &StillLimits::default()).unwrap_err(),
            StillError::NotPngOrJpeg
        );
    }

    #[test]
    fn a_truncated_png_is_undecodable() {
        let mut bytes = png(64, 64);
        bytes.truncate(bytes.len() / 2);
        assert!(matches!(
            process(&bytes, &StillLimits::default()),
            Err(StillError::Undecodable(_))
        ));
    }

    #[test]
    fn dimensions_over_the_limit_are_refused() {
        let limits = StillLimits {
            max_width: 100,
            max_height: 100,
            ..StillLimits::default()
        };
        assert!(matches!(
            process(&png(101, 10), &limits),
            Err(StillError::TooManyPixels { .. })
        ));
    }

    /// A PNG whose header claims `width`×`height` pixels, followed by a few bytes of data.
    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(width.to_be_bytes());
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(13u32.to_be_bytes());
        out.extend(&ihdr);
        out.extend(crc32fast::hash(&ihdr).to_be_bytes());
        let mut idat = b"IDAT".to_vec();
        idat.extend([0x78, 0x9c, 0x03, 0x00]);
        out.extend(4u32.to_be_bytes());
        out.extend(&idat);
        out.extend(crc32fast::hash(&idat).to_be_bytes());
        out
    }

    #[test]
    fn a_png_claiming_30000_by_30000_pixels_is_refused_from_its_header() {
        let bytes = png_claiming(30_000, 30_000);
        assert!(bytes.len() < 100);
        assert!(matches!(
            process(&bytes, &StillLimits::default()),
            Err(StillError::TooManyPixels { .. })
        ));
    }

    #[test]
    fn exif_metadata_does_not_survive_re_encoding() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(32, 32, image::Rgb([200, 10, 10])));
        let plain = jpeg(&img, 90).unwrap();
        // An APP1 Exif segment right after the start-of-image marker.
        let payload = b"Exif\0\0MM\0*secret-gps-position";
        let mut with_exif = plain[..2].to_vec();
        with_exif.extend([0xFF, 0xE1]);
        with_exif.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        with_exif.extend(payload);
        with_exif.extend(&plain[2..]);
        let out = process(&with_exif, &StillLimits::default()).unwrap();
        let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(contains(&with_exif, b"secret-gps-position"));
        assert!(!contains(&out.image, b"secret-gps-position"));
        assert!(!contains(&out.image, b"Exif"));
    }
}

//! Whether a still is good enough, measured on the server when it is stored: **sharpness** is
//! the variance of the Laplacian of its luma (edges are strong and many in a sharp image, weak
//! in a blurred one), and **glare** is the share of blown-out pixels (luma at or above
//! [`BLOWN_OUT_LUMA`]), as a reflection on the document's plastic leaves them.
//!
//! Both are measured at one working size (the longest side scaled down to [`WORKING_SIDE`]),
//! so a figure means the same for a 640 px and a 1920 px capture. The thresholds live here and
//! only here; they were tuned on the fixtures in `agent-console/tests/fixtures/stills/` (a
//! made-up test card rendered sharp, slightly blurred, blurred and with a reflection: see
//! `make.sh` there), whose figures the tests below pin.

use image::DynamicImage;
use image::imageops::FilterType;
use store::StillQuality;

/// The longest side, in pixels, at which a still is measured.
pub const WORKING_SIDE: u32 = 640;
/// Below this sharpness a still is "blurred, capture again". On the fixtures: sharp 963,
/// slightly blurred (1.2 px, still readable) 106, blurred (3 px, unreadable small print) 4;
/// the reflection lowers the sharp card to 763.
pub const SHARPNESS_MIN: u32 = 50;
/// A pixel whose luma (0–255) is at least this is blown out.
pub const BLOWN_OUT_LUMA: u8 = 250;
/// Above this share of blown-out pixels, in thousandths, a still shows "glare on the
/// document". On the fixtures: 0 without the reflection, 85 with it (over the data).
pub const GLARE_MAX_PER_MILLE: u32 = 20;

/// What the console says of a still.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Sharp and without glare.
    Good,
    /// Too blurred to read: capture again.
    Blurred,
    /// A reflection blows out part of the document.
    Glare,
}

impl Verdict {
    /// How the console and the API name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Good => "good",
            Verdict::Blurred => "blurred",
            Verdict::Glare => "glare",
        }
    }

    /// The verdict on `q`: blur first (a blurred still is useless whatever its glare).
    pub fn of(q: StillQuality) -> Self {
        if q.sharpness < SHARPNESS_MIN {
            Verdict::Blurred
        } else if q.glare_per_mille > GLARE_MAX_PER_MILLE {
            Verdict::Glare
        } else {
            Verdict::Good
        }
    }
}

/// Measures a decoded still. CPU-bound: call it off the async runtime (the upload does, with
/// the re-encoding).
pub fn measure(image: &DynamicImage) -> StillQuality {
    let (w, h) = (image.width(), image.height());
    let longest = w.max(h);
    let luma = if longest > WORKING_SIDE {
        let scale = f64::from(WORKING_SIDE) / f64::from(longest);
        let (sw, sh) = (scaled(w, scale), scaled(h, scale));
        image.resize_exact(sw, sh, FilterType::Triangle).to_luma8()
    } else {
        image.to_luma8()
    };
    let (w, h) = luma.dimensions();
    let blown = luma.pixels().filter(|p| p.0[0] >= BLOWN_OUT_LUMA).count();
    let total = (w as usize * h as usize).max(1);
    let glare_per_mille = u32::try_from(blown * 1000 / total).unwrap_or(1000);
    StillQuality {
        sharpness: laplacian_variance(&luma),
        glare_per_mille,
    }
}

fn scaled(side: u32, scale: f64) -> u32 {
    // Both factors are at most WORKING_SIDE-sized: the cast cannot overflow.
    ((f64::from(side) * scale).round() as u32).max(1)
}

/// The variance of the 4-neighbour Laplacian over the interior pixels, rounded.
fn laplacian_variance(luma: &image::GrayImage) -> u32 {
    let (w, h) = luma.dimensions();
    if w < 3 || h < 3 {
        return 0;
    }
    let at = |x: u32, y: u32| f64::from(luma.get_pixel(x, y).0[0]);
    let (mut sum, mut sum_sq, mut n) = (0.0, 0.0, 0.0);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let l = 4.0 * at(x, y) - at(x - 1, y) - at(x + 1, y) - at(x, y - 1) - at(x, y + 1);
            sum += l;
            sum_sq += l * l;
            n += 1.0;
        }
    }
    let mean = sum / n;
    let variance = (sum_sq / n - mean * mean).max(0.0);
    // A Laplacian of 8-bit luma is within ±1020: its variance fits a u32.
    variance.round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> StillQuality {
        let path = format!(
            "{}/tests/fixtures/stills/{name}.png",
            env!("CARGO_MANIFEST_DIR")
        );
        let image = image::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        measure(&image)
    }

    #[test]
    fn the_sharp_card_is_sharper_than_the_blurred_ones_and_good() {
        let sharp = fixture("sharp");
        let slightly = fixture("slightly-blurred");
        let blurred = fixture("blurred");
        assert!(
            sharp.sharpness > slightly.sharpness,
            "{sharp:?} {slightly:?}"
        );
        assert!(
            slightly.sharpness > blurred.sharpness,
            "{slightly:?} {blurred:?}"
        );
        assert_eq!(Verdict::of(sharp), Verdict::Good, "{sharp:?}");
        assert_eq!(
            Verdict::of(slightly),
            Verdict::Good,
            "readable: {slightly:?}"
        );
        assert_eq!(Verdict::of(blurred), Verdict::Blurred, "{blurred:?}");
    }

    #[test]
    fn a_reflection_on_the_card_is_glare_and_the_sharp_card_has_none() {
        let sharp = fixture("sharp");
        let glare = fixture("glare");
        assert!(sharp.glare_per_mille <= GLARE_MAX_PER_MILLE, "{sharp:?}");
        assert!(glare.glare_per_mille > GLARE_MAX_PER_MILLE, "{glare:?}");
        assert_eq!(Verdict::of(glare), Verdict::Glare, "{glare:?}");
    }

    #[test]
    fn the_figures_do_not_depend_on_the_capture_size() {
        let path = format!(
            "{}/tests/fixtures/stills/sharp.png",
            env!("CARGO_MANIFEST_DIR")
        );
        let image = image::open(&path).expect("fixture");
        let big = image.resize_exact(1600, 1000, FilterType::CatmullRom);
        let (small, large) = (measure(&image), measure(&big));
        assert_eq!(Verdict::of(small), Verdict::of(large));
        let ratio = f64::from(large.sharpness) / f64::from(small.sharpness.max(1));
        assert!((0.5..2.0).contains(&ratio), "{small:?} {large:?}");
    }

    #[test]
    fn flat_and_tiny_images_measure_as_blurred_without_panicking() {
        let flat = DynamicImage::new_luma8(50, 40);
        assert_eq!(Verdict::of(measure(&flat)), Verdict::Blurred);
        let tiny = DynamicImage::new_luma8(2, 1);
        assert_eq!(measure(&tiny).sharpness, 0);
    }
}

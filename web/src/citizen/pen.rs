//! Drawing the receipt's page: positions, colours and the few primitives the layout uses
//! (text in one of two fonts, filled rectangles, rules, wrapped paragraphs).

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

/// A4 in points.
pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
pub const MARGIN: f32 = 56.0;
/// Characters per line of body text at 10 pt in the text width (DejaVu Sans averages about
/// 0.52 em a character in these texts, so 90 characters stay inside 483 pt).
const WRAP_CHARS: usize = 90;

/// Draws on the page with the two fonts.
pub struct Pen<'s, 'p> {
    pub surface: &'s mut Surface<'p>,
    pub regular: Font,
    pub bold: Font,
}

pub const INK: (u8, u8, u8) = (0x1a, 0x1a, 0x1a);
pub const MUTED: (u8, u8, u8) = (0x4a, 0x4a, 0x4a);
/// The red of Spanish public-sector headers, dark enough for white text (contrast 6.9:1).
pub const BRAND: (u8, u8, u8) = (0xa0, 0x1c, 0x1c);
pub const RULE: (u8, u8, u8) = (0xc8, 0xc8, 0xc8);
pub const PANEL: (u8, u8, u8) = (0xf3, 0xf3, 0xf1);

impl Pen<'_, '_> {
    /// Body text at 10 pt, wrapped; returns the baseline below the last line.
    pub fn paragraph(&mut self, mut y: f32, text: &str) -> f32 {
        for line in wrap(text, WRAP_CHARS) {
            self.text(MARGIN, y, 10.0, false, INK, &line);
            y += 15.0;
        }
        y
    }

    pub fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), text: &str) {
        self.surface.set_fill(Some(fill(color)));
        let font = if bold { &self.bold } else { &self.regular };
        self.surface.draw_text(
            Point::from_xy(x, y),
            font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8)) {
        let mut path = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(x, y, w, h) {
            path.push_rect(r);
        }
        if let Some(p) = path.finish() {
            self.surface.set_fill(Some(fill(color)));
            self.surface.draw_path(&p);
        }
    }

    pub fn rule(&mut self, y: f32) {
        self.rect(MARGIN, y, PAGE_W - 2.0 * MARGIN, 0.8, RULE);
    }
}

fn fill((r, g, b): (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// Splits `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_at_spaces() {
        assert_eq!(wrap("uno dos tres", 7), ["uno dos", "tres"]);
        assert_eq!(wrap("palabralarga y", 4), ["palabralarga", "y"]);
        assert!(wrap("", 10).is_empty());
    }
}

//! The registration receipt as a PDF, made with `krilla` (a PDF library: no hand-written PDF
//! syntax). One A4 page in the citizen's language: name, ID number partly masked, level,
//! date and time of the registration in Madrid time, the reference number, the code's expiry,
//! the code itself only when the citizen asks for it, and how to activate. The text is set in
//! DejaVu Sans (embedded and subset, so accents and `ñ` show everywhere and the text can be
//! copied and searched); the fonts' licence is in `web/fonts/`.

use chrono::{DateTime, Utc};
use krilla::Document;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::text::Font;
use scheduler::SERVICE_TZ;

use super::pen::{BRAND, INK, MARGIN, MUTED, PAGE_H, PAGE_W, PANEL, Pen};
use agent_console::i18n::Lang;

const REGULAR_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// Where values start, right of their labels.
const VALUE_X: f32 = 252.0;

/// What a receipt shows.
#[derive(Debug, Clone)]
pub struct ReceiptData {
    /// The citizen's full name, from the identity registry.
    pub full_name: String,
    /// The ID number, masked (`*****678Z`, `X****567L`).
    pub masked_id: String,
    /// The reference number (the registration id).
    pub reference: String,
    /// When the registration was approved.
    pub registered_at: DateTime<Utc>,
    /// When the activation code stops working.
    pub code_expires_at: DateTime<Utc>,
    /// When the code was used, if it was.
    pub code_used_at: Option<DateTime<Utc>>,
    /// The code, grouped (`ABCD-EFGH-JKLM-NPQR`), only if the citizen asked for it.
    pub code: Option<String>,
    /// When the receipt was made.
    pub issued_at: DateTime<Utc>,
}

/// Why a receipt could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// An embedded font could not be read.
    #[error("the embedded receipt font cannot be read")]
    Font,
    /// The PDF library refused the document.
    #[error("PDF: {0}")]
    Pdf(String),
}

/// The reference grouped in fours for reading aloud: `1A2B 3C4D …`.
pub fn grouped_reference(reference: &str) -> String {
    let upper = reference.to_ascii_uppercase();
    let chars: Vec<char> = upper.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A date and time in Madrid, spelled out with the zone: `jueves, 26 de noviembre de 2026,
/// 10:05 (hora de Madrid)`.
pub fn madrid_time(lang: Lang, t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&SERVICE_TZ);
    format!(
        "{}, {} {}",
        lang.long_date(&local),
        local.format("%H:%M"),
        lang.pick("(hora de Madrid)", "(Madrid time)")
    )
}

/// A date and time in Madrid without the weekday or the zone, for the receipt's table (a note
/// under it names the zone once): `26 de noviembre de 2026, 10:05`.
fn table_time(lang: Lang, t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&SERVICE_TZ);
    let long = lang.long_date(&local);
    let date = long.split_once(", ").map_or(long.as_str(), |(_, d)| d);
    format!("{date}, {}", local.format("%H:%M"))
}

/// Renders the receipt as the bytes of a one-page PDF.
pub fn render_receipt(data: &ReceiptData, lang: Lang) -> Result<Vec<u8>, ReceiptError> {
    // Parsed per receipt (a fraction of a millisecond against the ~24 ms of a render), so
    // that no font lives in a global.
    let regular = Font::new(REGULAR_TTF.into(), 0).ok_or(ReceiptError::Font)?;
    let bold = Font::new(BOLD_TTF.into(), 0).ok_or(ReceiptError::Font)?;
    let title = lang.pick(
        "Justificante de registro en Cl@ve",
        "Cl@ve registration receipt",
    );
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_owned())
            .language(lang.code().to_owned())
            .creator("videoreg".to_owned()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| ReceiptError::Pdf("page size".into()))?;
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    let mut pen = Pen {
        surface: &mut surface,
        regular,
        bold,
    };
    layout(&mut pen, data, lang, title);
    surface.finish();
    page.finish();
    document
        .finish()
        .map_err(|e| ReceiptError::Pdf(format!("{e:?}")))
}

fn layout(pen: &mut Pen<'_, '_>, data: &ReceiptData, lang: Lang, title: &str) {
    let right = PAGE_W - MARGIN;
    // Header band.
    pen.rect(0.0, 0.0, PAGE_W, 92.0, BRAND);
    pen.text(MARGIN, 44.0, 20.0, true, (255, 255, 255), title);
    pen.text(
        MARGIN,
        70.0,
        11.0,
        false,
        (255, 255, 255),
        lang.pick(
            "Registro por videollamada · Gobierno de España",
            "Registration by video call · Government of Spain",
        ),
    );

    let mut y = 132.0;
    pen.text(
        MARGIN,
        y,
        11.0,
        false,
        INK,
        lang.pick(
            "Su identidad ha sido verificada y su registro en Cl@ve está hecho.",
            "Your identity has been verified and your Cl@ve registration is done.",
        ),
    );

    // The registration's details, label and value per row.
    y += 24.0;
    let reference = grouped_reference(&data.reference);
    let registered = table_time(lang, data.registered_at);
    let expiry = match data.code_used_at {
        Some(used) => format!(
            "{} {}",
            lang.pick("ya utilizado el", "already used on"),
            table_time(lang, used)
        ),
        None => table_time(lang, data.code_expires_at),
    };
    let rows: [(&str, &str); 6] = [
        (
            lang.pick("Nombre y apellidos", "Full name"),
            &data.full_name,
        ),
        (lang.pick("DNI / NIE", "DNI / NIE"), &data.masked_id),
        (
            lang.pick("Nivel de registro", "Registration level"),
            lang.pick("básico", "basic"),
        ),
        (
            lang.pick("Fecha y hora del registro", "Date and time of registration"),
            &registered,
        ),
        (
            lang.pick("Número de referencia", "Reference number"),
            &reference,
        ),
        (
            lang.pick(
                "Código de activación válido hasta",
                "Activation code valid until",
            ),
            &expiry,
        ),
    ];
    let panel_h = 26.0 * rows.len() as f32 + 16.0;
    pen.rect(MARGIN, y, right - MARGIN, panel_h, PANEL);
    y += 26.0;
    for (label, value) in rows {
        pen.text(MARGIN + 12.0, y, 9.5, false, MUTED, label);
        pen.text(VALUE_X, y, 11.0, true, INK, value);
        y += 26.0;
    }
    pen.text(
        MARGIN,
        y + 4.0,
        8.5,
        false,
        MUTED,
        lang.pick(
            "Fechas y horas de Madrid (hora peninsular española).",
            "Dates and times in Madrid time (peninsular Spain).",
        ),
    );

    // The code, or where it is.
    y += 34.0;
    pen.text(
        MARGIN,
        y,
        12.0,
        true,
        INK,
        lang.pick("Código de activación", "Activation code"),
    );
    y += 26.0;
    match &data.code {
        Some(code) => {
            pen.text(MARGIN, y + 4.0, 22.0, true, INK, code);
            y += 30.0;
            y = pen.paragraph(
                y,
                lang.pick(
                    "Este justificante contiene su código: guárdelo como guardaría una contraseña y no lo comparta.",
                    "This receipt holds your code: keep it as you would keep a password and do not share it.",
                ),
            );
        }
        None => {
            y = pen.paragraph(
                y,
                lang.pick(
                    "No incluido en este justificante, por su seguridad. Lo tiene en la pantalla del final de la videollamada.",
                    "Not included in this receipt, for your safety. It was shown on the screen at the end of the video call.",
                ),
            );
        }
    }

    // How to activate.
    y += 20.0;
    pen.rule(y - 12.0);
    pen.text(
        MARGIN,
        y + 8.0,
        12.0,
        true,
        INK,
        lang.pick(
            "Cómo activar su Cl@ve Permanente",
            "How to activate your Permanent Cl@ve",
        ),
    );
    y += 30.0;
    let steps = [
        lang.pick(
            "1. Abra la página «Activar Cl@ve Permanente» de este servicio (dirección /activate).",
            "1. Open the “Activate Permanent Cl@ve” page of this service (address /activate).",
        ),
        lang.pick(
            "2. Escriba su DNI o NIE y el código de activación.",
            "2. Enter your DNI or NIE and the activation code.",
        ),
        lang.pick(
            "3. Elija una contraseña de al menos 8 caracteres de cualquier tipo (una frase de varias palabras es fácil de recordar). No puede ser una contraseña común ni contener su DNI/NIE ni su nombre.",
            "3. Choose a password of at least 8 characters of any kind (a phrase of several words is easy to remember). It must not be a common password nor contain your DNI/NIE or your name.",
        ),
        lang.pick(
            "4. El código sirve una sola vez y caduca en la fecha indicada arriba. Si caduca, pida uno nuevo con otra videollamada.",
            "4. The code works once and expires on the date above. If it expires, ask for a new one with another video call.",
        ),
    ];
    for step in steps {
        y = pen.paragraph(y, step) + 6.0;
    }
    y += 8.0;
    pen.paragraph(
        y,
        lang.pick(
            "Nadie de la Administración le pedirá nunca su código ni su contraseña, ni por teléfono ni por correo.",
            "No one from the administration will ever ask for your code or your password, by phone or by email.",
        ),
    );

    // Footer.
    let footer_y = PAGE_H - MARGIN;
    pen.rule(footer_y - 16.0);
    let issued = format!(
        "{} {}",
        lang.pick("Emitido el", "Issued on"),
        madrid_time(lang, data.issued_at),
    );
    let reference = format!("{} {reference}", lang.pick("Referencia", "Reference"));
    pen.text(MARGIN, footer_y - 2.0, 8.5, false, MUTED, &issued);
    pen.text(MARGIN, footer_y + 10.0, 8.5, false, MUTED, &reference);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(code: Option<&str>) -> ReceiptData {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).expect("instant").to_utc();
        ReceiptData {
            full_name: "Lucía Martín Ficticia".into(),
            masked_id: "*****678Z".into(),
            reference: "0123456789abcdef0123456789abcdef".into(),
            registered_at: t("2026-11-26T09:05:00Z"),
            code_expires_at: t("2026-12-26T09:05:00Z"),
            code_used_at: None,
            code: code.map(Into::into),
            issued_at: t("2026-11-26T09:30:00Z"),
        }
    }

    #[test]
    fn a_receipt_is_a_small_pdf_in_both_languages() {
        for lang in [Lang::Es, Lang::En] {
            let started = std::time::Instant::now();
            let pdf = render_receipt(&data(Some("ABCD-EFGH-JKLM-NPQR")), lang).expect("render");
            let took = started.elapsed();
            assert!(pdf.starts_with(b"%PDF-"), "a PDF");
            assert!(
                pdf.len() < 100 * 1024,
                "subset fonts keep it small: {} bytes",
                pdf.len()
            );
            eprintln!("receipt ({}): {} bytes in {took:?}", lang.code(), pdf.len());
        }
    }

    #[test]
    fn the_reference_is_grouped_in_fours() {
        assert_eq!(grouped_reference("0123456789abcdef"), "0123 4567 89AB CDEF");
        assert_eq!(grouped_reference("abcde"), "ABCD E");
    }
}

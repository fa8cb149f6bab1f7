//! The visitor's language (Spanish or English) and the few words dates need.

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::http::request::Parts;
use chrono::{DateTime, Datelike};
use chrono_tz::Tz;

/// A language of the user interface. Spanish is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Español.
    #[default]
    Es,
    /// English.
    En,
}

impl Lang {
    /// Picks the text for this language.
    pub fn pick<'a>(self, es: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Es => es,
            Lang::En => en,
        }
    }

    /// The BCP 47 code: `es` or `en`.
    pub fn code(self) -> &'static str {
        self.pick("es", "en")
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }

    fn from_code(code: &str) -> Option<Lang> {
        let primary = code
            .trim()
            .split(['-', '_', ';'])
            .next()?
            .to_ascii_lowercase();
        match primary.as_str() {
            "es" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language a query string asks for with `lang=`, if a known one.
    pub fn from_query(query: &str) -> Option<Lang> {
        query
            .split('&')
            .filter_map(|kv| kv.strip_prefix("lang="))
            .find_map(Lang::from_code)
    }

    /// The language asked for by `?lang=`, then a `lang` cookie, then `Accept-Language`.
    pub fn from_parts(parts: &Parts) -> Lang {
        let from_query = Lang::from_query(parts.uri.query().unwrap_or(""));
        let header = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        let from_cookie = header(COOKIE)
            .split(';')
            .filter_map(|c| c.trim().strip_prefix("lang="))
            .find_map(Lang::from_code);
        let from_accept = header(ACCEPT_LANGUAGE).split(',').find_map(Lang::from_code);
        from_query
            .or(from_cookie)
            .or(from_accept)
            .unwrap_or_default()
    }

    /// A date spelled out: `jueves, 26 de noviembre de 2026` / `Thursday, 26 November 2026`.
    pub fn long_date(self, t: &DateTime<Tz>) -> String {
        let wd = t.weekday().num_days_from_monday() as usize;
        let m = t.month0() as usize;
        match self {
            Lang::Es => format!(
                "{}, {} de {} de {}",
                WEEKDAYS_ES[wd],
                t.day(),
                MONTHS_ES[m],
                t.year()
            ),
            Lang::En => format!(
                "{}, {} {} {}",
                WEEKDAYS_EN[wd],
                t.day(),
                MONTHS_EN[m],
                t.year()
            ),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_parts(parts))
    }
}

const WEEKDAYS_ES: [&str; 7] = [
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
];
const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn query_beats_cookie_beats_accept_language() {
        assert_eq!(Lang::from_parts(&parts("/", &[])), Lang::Es);
        assert_eq!(
            Lang::from_parts(&parts("/", &[("accept-language", "en-GB,en;q=0.9")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_parts(&parts("/", &[("accept-language", "fr-FR, es;q=0.5")])),
            Lang::Es
        );
        let both = [("accept-language", "en"), ("cookie", "a=b; lang=es")];
        assert_eq!(Lang::from_parts(&parts("/", &both)), Lang::Es);
        assert_eq!(Lang::from_parts(&parts("/?x=1&lang=en", &both)), Lang::En);
        assert_eq!(Lang::from_parts(&parts("/?lang=zz", &[])), Lang::Es);
    }

    #[test]
    fn long_dates_read_naturally_in_both_languages() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-26T09:00:00+01:00")
            .unwrap()
            .with_timezone(&chrono_tz::Europe::Madrid);
        assert_eq!(Lang::Es.long_date(&t), "jueves, 26 de noviembre de 2026");
        assert_eq!(Lang::En.long_date(&t), "Thursday, 26 November 2026");
    }
}

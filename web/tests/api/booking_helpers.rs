//! Booking through the API as a browser does: the `videoreg_booking` cookie kept by hand.

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A browser's booking cookie (`name=value`), empty before it has one.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    pub cookie: String,
}

/// A response's status, JSON body and booking cookie (if it set one).
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub cookie: Option<String>,
}

async fn answer(r: reqwest::Response) -> Answer {
    let cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("videoreg_booking="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        body,
        cookie,
    }
}

impl TestApp {
    /// The free slots' starts.
    pub async fn free_slots(&self) -> Vec<String> {
        let (status, body) = self.get_json("/api/v1/bookings/slots").await;
        assert_eq!(status, 200, "{body}");
        body["slots"]
            .as_array()
            .expect("slots")
            .iter()
            .map(|s| s["starts"].as_str().expect("starts").to_owned())
            .collect()
    }

    /// Books `slot` with `application` from `browser` (which keeps the cookie it gets).
    pub async fn book(
        &self,
        browser: &mut Browser,
        application: &str,
        slot: &str,
        replace: bool,
    ) -> Answer {
        let r = self
            .client
            .post(self.url("/api/v1/bookings"))
            .json(&json!({ "application": application, "slot": slot, "replace": replace }))
            .send()
            .await
            .expect("request");
        kept(browser, answer(r).await)
    }

    /// A request on the browser's own booking (`GET`, `DELETE` or `POST` with `body`).
    pub async fn my_booking(
        &self,
        browser: &Browser,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header(COOKIE, &browser.cookie);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.expect("request")).await
    }

    /// Finds a booking with its reference and ID number from `browser`.
    pub async fn find_booking(&self, browser: &mut Browser, reference: &str, id: &str) -> Answer {
        let r = self
            .client
            .post(self.url("/api/v1/bookings/find"))
            .json(&json!({ "reference": reference, "id_number": id }))
            .send()
            .await
            .expect("request");
        kept(browser, answer(r).await)
    }
}

/// `a`, its cookie (if it set one) kept by `browser`.
fn kept(browser: &mut Browser, a: Answer) -> Answer {
    if let Some(c) = &a.cookie {
        browser.cookie = c.clone();
    }
    a
}

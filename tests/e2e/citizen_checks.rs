//! What the citizen's pages must look like at any width, measured in the browser: the
//! activation code breaks only at its dashes and stays inside the screen, one element sits
//! above another, which step the step indicator marks; and the receipt's PDF as text. Also
//! the queue page's first step, shared by the flows that go through it.

use fantoccini::{Client, Locator};

use crate::chromium::{attr, click, eventually, script_number, text};
use serde_json::Value;

/// How the activation code `#code` is laid out: its lines, the characters after which a line
/// ends although they are not a dash, and whether any character lies beyond the viewport.
#[derive(Debug)]
pub struct CodeLayout {
    pub text: String,
    pub lines: usize,
    pub breaks_not_at_dash: Vec<String>,
    pub overflows: bool,
}

const CODE_LAYOUT_JS: &str = r#"
const out = document.getElementById("code");
const walker = document.createTreeWalker(out, NodeFilter.SHOW_TEXT);
const chars = [];
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  for (let i = 0; i < n.length; i++) {
    const r = document.createRange();
    r.setStart(n, i);
    r.setEnd(n, i + 1);
    const b = r.getBoundingClientRect();
    chars.push({ c: n.data[i], top: b.top, right: b.right });
  }
}
const breaks = [];
let lines = chars.length ? 1 : 0;
for (let i = 1; i < chars.length; i++) {
  if (chars[i].top > chars[i - 1].top + 2) {
    lines += 1;
    if (chars[i - 1].c !== "-") breaks.push(chars.slice(0, i).map((x) => x.c).join(""));
  }
}
const width = document.documentElement.clientWidth;
return {
  text: chars.map((x) => x.c).join(""),
  lines,
  breaks_not_at_dash: breaks,
  overflows: chars.some((x) => x.right > width + 0.5),
};
"#;

pub async fn code_layout(c: &Client) -> CodeLayout {
    let v = c
        .execute(CODE_LAYOUT_JS, vec![])
        .await
        .expect("measure the code");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    CodeLayout {
        text: v["text"].as_str().unwrap_or_default().to_owned(),
        lines: v["lines"].as_u64().unwrap_or_default() as usize,
        breaks_not_at_dash: strings(&v["breaks_not_at_dash"]),
        overflows: v["overflows"].as_bool().unwrap_or(true),
    }
}

/// The top edge of the element `id` minus that of `below`: negative when `id` is higher.
pub async fn top_difference(c: &Client, id: &str, below: &str) -> f64 {
    let js = format!(
        "return document.getElementById({id:?}).getBoundingClientRect().top \
         - document.getElementById({below:?}).getBoundingClientRect().top"
    );
    c.execute(&js, vec![])
        .await
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(f64::NAN)
}

/// The id of the step the step indicator marks as current (`aria-current="step"`).
pub async fn current_step(c: &Client) -> String {
    c.execute(
        "const s = document.querySelectorAll('.steps [aria-current=step]'); \
         return s.length === 1 ? (s[0].id || s[0].textContent) : `${s.length} current steps`",
        vec![],
    )
    .await
    .ok()
    .and_then(|v| v.as_str().map(str::to_owned))
    .unwrap_or_default()
}

/// The value of the form field `id`.
pub async fn field_value(c: &Client, id: &str) -> String {
    c.execute(
        &format!("return document.getElementById({id:?}).value"),
        vec![],
    )
    .await
    .ok()
    .and_then(|v| v.as_str().map(str::to_owned))
    .unwrap_or_default()
}

/// Replaces what the field `id` holds with `value`, typed.
pub async fn type_into(c: &Client, id: &str, value: &str) {
    let field = c.find(Locator::Id(id)).await.expect("field");
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

/// Bytes received on the page's `#remote` video, as its script measured with getStats.
pub async fn bytes_received(c: &Client) -> f64 {
    script_number(
        c,
        "return Number(document.getElementById('remote').dataset.bytesReceived || 0)",
    )
    .await
}

/// Posts the page's receipt form with `fetch` and returns the PDF as base64.
pub const RECEIPT_JS: &str = r#"
const done = arguments[arguments.length - 1];
fetch("/receipt", { method: "POST", body: new URLSearchParams(new FormData(document.getElementById("receipt"))) })
  .then((r) => r.arrayBuffer())
  .then((b) => { let s = ""; new Uint8Array(b).forEach((x) => { s += String.fromCharCode(x); }); done(btoa(s)); })
  .catch((e) => done(String(e)));
"#;

/// The PDF's text, from poppler's `pdftotext` (scripts/test installs poppler-utils).
pub fn pdf_text(pdf: &[u8]) -> String {
    let path = crate::helpers::scratch_dir().join("receipt.pdf");
    std::fs::write(&path, pdf).expect("write the PDF");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed: scripts/test installs it");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// On the queue page: consent, join, and wait for the first place.
pub async fn join_queue(citizen: &Client) {
    eventually("the queue page", || async {
        attr(citizen, "consent-step", "hidden").await.is_none()
    })
    .await;
    click(citizen, "#consent").await;
    click(citizen, "#join").await;
    eventually("a position", || async {
        text(citizen, "position").await == "1"
    })
    .await;
}

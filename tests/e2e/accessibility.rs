//! axe-core (vendored in `fixtures/axe-core/`) run in headless Chromium on every citizen page,
//! in Spanish and in English: no serious or critical violation of WCAG 2.x A/AA rules.

use fantoccini::Client;
use serde_json::Value;

use crate::chromium::browser_sized;
use crate::helpers::{scratch_dir, sqlite_url, start};

const AXE: &str = include_str!("fixtures/axe-core/axe.min.js");

/// Runs axe on the current page; returns the serious and critical violations.
pub async fn violations(c: &Client) -> Vec<Value> {
    c.execute(AXE, vec![]).await.expect("load axe-core");
    let result = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] } })
                 .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }))))
                 .catch((e) => done([{ id: "axe-error", impact: "critical", help: String(e) }]));"#,
            vec![],
        )
        .await
        .expect("run axe-core");
    result
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_citizen_page_passes_axe_in_both_languages() {
    let db = sqlite_url(&scratch_dir());
    let server = start(
        &[
            "demo",
            "--always-open",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &db,
        ],
        &[],
    )
    .await;
    let (_driver, c) = browser_sized(true, (1024, 900)).await;
    let mut failures = Vec::new();
    for lang in ["es", "en"] {
        // (path, sessionStorage to set first so that the page shows its main state)
        let pages: [(&str, Option<&str>); 9] = [
            ("/", None),
            ("/activate", None),
            ("/login", None),
            ("/receipt", None),
            ("/test-call", None),
            (
                "/apply",
                Some("sessionStorage.setItem('videoreg.test_call', 'x')"),
            ),
            (
                "/queue",
                Some("sessionStorage.setItem('videoreg.application', 'x')"),
            ),
            ("/queue", None),
            // No booking in this browser: the form that finds one.
            ("/cita", None),
        ];
        for (path, storage) in pages {
            let url = server.url(&format!("{path}?lang={lang}"));
            c.goto(&url).await.expect("open");
            if let Some(js) = storage {
                c.execute(js, vec![]).await.expect("storage");
                c.goto(&url).await.expect("reopen");
            }
            for v in violations(&c).await {
                failures.push(format!("{path} ({lang}): {v}"));
            }
            c.execute("sessionStorage.clear()", vec![])
                .await
                .expect("clear");
        }
    }
    c.close().await.expect("close");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! What a citizen's `join` costs the database: the SQL statements run while the server
//! handles that one message, counted from sqlx's own statement events under the socket's
//! per-message span.

use std::sync::Mutex;

use serde_json::json;
use tokio::sync::mpsc;
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::helpers::spawn_app;

/// Statements counted under one `message` span.
struct Statements(usize);

/// The statement text of one of sqlx's events.
struct Statement(String);

impl tracing::field::Visit for Statement {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "db.statement" || (field.name() == "summary" && self.0.is_empty()) {
            self.0 = value.to_owned();
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "db.statement" || (field.name() == "summary" && self.0.is_empty()) {
            self.0 = format!("{value:?}");
        }
    }
}

/// Counts sqlx's statement events under each `message` span and sends the count when the
/// span closes.
struct CountStatements {
    done: Mutex<mpsc::UnboundedSender<usize>>,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CountStatements {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() == "message"
            && let Some(span) = ctx.span(id)
        {
            span.extensions_mut().insert(Statements(0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !event.metadata().target().starts_with("sqlx::query") {
            return;
        }
        // A connection the pool opens meanwhile sets itself up with pragmas: not the join's.
        let mut statement = Statement(String::new());
        event.record(&mut statement);
        if statement
            .0
            .trim_start()
            .to_ascii_uppercase()
            .starts_with("PRAGMA")
        {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(n) = span.extensions_mut().get_mut::<Statements>() {
                n.0 += 1;
                return;
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(n) = span.extensions().get::<Statements>()
        {
            let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
            let _ = done.send(n.0);
        }
    }
}

/// The most statements a newcomer's join may run on SQLite: the application, the ID number's
/// live ticket and live booking (an appointment), the queue snapshot once (waiting tickets,
/// agents, recent calls, abandonment, today's booked slots) the insert, and the connection's
/// row (presence: which node holds the citizen's socket). It was 13 when the queue was read
/// twice and the live ticket looked up twice.
const MOST_PER_JOIN: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_reads_the_queue_and_the_live_ticket_once() {
    let (tx, mut counts) = mpsc::unbounded_channel();
    let layer = CountStatements {
        done: Mutex::new(tx),
    };
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("the only subscriber of this test process");
    let app = spawn_app().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    ws.until("queued").await;
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), counts.recv())
        .await
        .expect("the join's span closes")
        .expect("a count");
    assert!(n > 0, "statements are counted");
    assert!(
        n <= MOST_PER_JOIN,
        "a join ran {n} statements (at most {MOST_PER_JOIN})"
    );
    println!("statements per join: {n}");
}

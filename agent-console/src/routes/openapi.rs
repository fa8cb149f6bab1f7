//! The staff routes' part of the server's OpenAPI description: the console's HTTP calls, the
//! review pages and the supervisors' report and dashboard snapshot. Each operation is
//! described on its handler; the server (`web`) merges this with its own and serves it.

use std::collections::BTreeMap;

use utoipa::OpenApi;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{
    Content, Ref, RefOr, Response, ResponseBuilder, ResponsesBuilder, header::Header,
};

/// The staff operations.
#[derive(OpenApi)]
#[openapi(paths(
    super::call::details,
    super::call::upload,
    super::challenge::issue,
    super::challenge::heard,
    super::decision::decide,
    super::review::list,
    super::review::show,
    super::supervisor::snapshot,
    super::report::show,
    super::bookings::page,
    super::monitor::start,
    super::monitor::stop,
    super::monitor::whisper,
))]
pub struct ConsoleApi;

/// The answers every staff operation can give besides its own: no session (a browser is sent
/// to the sign-in page, a script gets `sign_in_required`), an internal error and the database
/// out of reach. Listed in each operation's `responses` beside its own.
pub struct StaffRefusals;

impl utoipa::IntoResponses for StaffRefusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let string = || Object::with_type(Type::String);
        let error = || Ref::from_schema_name("ErrorBody");
        let error_or_page = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content("application/json", Content::new(Some(error())))
                .content("text/html", Content::new(Some(string())))
        };
        let retry_after = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(0));
        ResponsesBuilder::new()
            .response(
                "303",
                ResponseBuilder::new()
                    .description(
                        "A browser (`Accept: text/html`) without a session is sent to `/staff/login`",
                    )
                    .header("Location", Header::new(string())),
            )
            .response(
                "401",
                ResponseBuilder::new()
                    .description("`sign_in_required`")
                    .content("application/json", Content::new(Some(error()))),
            )
            .response(
                "500",
                error_or_page("`internal`, with the request id (a page unless JSON is accepted)"),
            )
            .response(
                "503",
                error_or_page(
                    "`unavailable`: the database cannot be reached (a page unless JSON is accepted)",
                )
                .header("Retry-After", Header::new(retry_after)),
            )
            .build()
            .into()
    }
}

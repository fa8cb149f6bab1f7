//! The staff routes' part of the server's OpenAPI description: the console's HTTP calls, the
//! review pages and the supervisors' report and dashboard snapshot. Each operation is
//! described on its handler; the server (`web`) merges this with its own and serves it.

use utoipa::OpenApi;

/// The staff operations.
#[derive(OpenApi)]
#[openapi(paths(
    super::call::details,
    super::call::upload,
    super::decision::decide,
    super::review::list,
    super::review::show,
    super::supervisor::snapshot,
    super::report::show,
))]
pub struct ConsoleApi;

//! The HTTP surface against `web::run` on a real port, each test with its own database.

mod account_helpers;
mod activation;
mod applications;
mod citizen_consent;
mod citizen_login;
mod citizen_pages;
mod console_decisions;
mod console_helpers;
mod console_stills;
mod console_timers;
mod echo;
mod errors;
mod helpers;
mod hours;
mod landing;
mod media;
mod media_helpers;
mod receipt;
mod staff_helpers;
mod staff_roles;
mod staff_signin;
mod turn;
mod ws_agent;
mod ws_citizen;
mod ws_helpers;
mod ws_nodes;

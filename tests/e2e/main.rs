//! End-to-end: the real `videoreg` binary, started as an operator would start it.

mod audit;
mod browser;
mod chromium;
mod cli;
mod console;
mod helpers;
mod serve;
mod users;

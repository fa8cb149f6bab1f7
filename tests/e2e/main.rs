//! End-to-end: the real `videoreg` binary, started as an operator would start it.

mod browser;
mod cli;
mod helpers;
mod serve;
mod users;

//! End-to-end: the real `videoreg` binary, started as an operator would start it.

mod accessibility;
mod audit;
mod balancer;
mod booking;
mod browser;
mod chromium;
mod citizen;
mod citizen_checks;
mod cli;
mod cluster;
mod console;
mod console_guards;
mod console_steps;
mod helpers;
mod history;
mod monitor_steps;
mod netns;
mod network_paths;
mod node_loss;
mod nodes;
mod review_steps;
mod serve;
mod soak;
mod supervisor;
mod users;

//! loket: the intake counter of a DPMPTSP permit office.
//!
//! Mail (IMAP) and the mail room's scans come in through [`intake`], are taken apart by
//! [`extract`], sorted by [`classify`] against the rule files, filed by [`filing`] as durable
//! cases and jobs, and acknowledged by [`notify`].

pub mod classify;
pub mod cli;
pub mod commands;
pub mod config;
pub mod corrections;
pub mod desk;
pub mod domain;
pub mod extract;
pub mod filing;
pub mod intake;
pub mod maintenance;
pub mod notify;
pub mod pipeline;
pub mod printing;
pub mod rules_report;
pub mod telemetry;
pub mod users;
pub mod worker;

//! Campus's HTTP face and the `campus` binary: actix-web wiring over the domain's services.
//!
//! This crate speaks HTTP and wires adapters; it holds no business rules. Its pieces:
//! [`config`] (the one typed configuration), [`error`] (the one HTTP error), [`extract`]
//! (JSON/query extractors that name bad fields), [`state`] (shared state and the `db` helper
//! every database call goes through), [`auth`] (tokens, passwords, audience extractors),
//! [`registry`] (every route with its audience and rate-limit class), [`routes`], [`server`]
//! and [`cli`].

pub mod auth;
pub mod bot;
pub mod cli;
mod cli_check;
pub mod config;
pub mod database;
pub mod dto;
pub mod error;
pub mod extract;
pub mod grading;
pub mod grading_worker;
pub mod language_model;
pub mod openapi;
pub mod rate_limit;
pub mod registry;
pub mod routes;
pub mod server;
pub mod state;
pub mod telemetry;

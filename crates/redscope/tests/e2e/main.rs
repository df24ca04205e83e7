//! End-to-end tests: the real `redscope` binary on free ports, driven over its real interfaces.

#![allow(clippy::unwrap_used)]

mod admission;
mod alerts;
mod auth;
mod bad_input;
mod common;
mod crash;
mod dashboards;
mod demo_web;
mod edges;
mod log_views;
mod logai_ingest;
mod otlp_json;
mod pipeline;
mod red;
mod rollups;
mod roundtrip;
mod rum;
mod traces;
mod triage;
mod usage;

//! Integration tests: the built `grill` binary driven through its command line and stdin,
//! each test in its own temporary HOME, config and data folders.

mod bank;
mod bank_draft;
mod config;
mod connections;
mod crash;
mod endpoint;
mod eval;
mod eval_mine;
mod grade;
mod interview;
mod learning;
mod llm;
mod ollama;
mod plan;
mod practice;
mod repl;
mod report;
mod review;
mod safety_input;
mod safety_server;
mod safety_store;
mod shipped_bank;
mod snapshots;
mod snapshots_cli;
mod snapshots_doctor;
mod snapshots_json;
mod snapshots_screens;
mod stream;
mod transcript_upgrade;
mod util;
mod verdicts;

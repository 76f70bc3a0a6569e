pub mod args;
pub mod bundle;
pub mod config;
pub mod run;

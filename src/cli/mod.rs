pub mod args;
pub mod bundle;
pub mod config;
pub mod generate;
pub mod run;
pub mod scan;

pub mod args;
pub mod bundle;
pub mod run;

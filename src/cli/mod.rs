pub mod args;
pub mod audit;
pub mod bundle;
pub mod cluster;
pub mod config;
pub mod diff;
pub mod generate;
pub mod listing;
pub mod merge;
pub mod progress_bar;
pub mod run;
pub mod scan;
pub mod signature_sources;
pub mod trust;

/// Colour is wanted unless NO_COLOR is set to a non-empty value (https://no-color.org: "when
/// present and not an empty string"); the caller also requires a terminal.
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

//! The progress line and the log lines share standard error: while a progress line is shown,
//! each log line is written with the line suspended (cleared, then redrawn below it), so neither
//! garbles the other.

use std::io::Write;
use std::sync::Mutex;

static BAR: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

pub fn set(bar: indicatif::ProgressBar) {
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
}

pub fn clear() {
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Standard error for `tracing`, around the progress line when there is one.
pub struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = BAR.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf)).map(|()| buf.len()),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Stderr {
    type Writer = Stderr;

    fn make_writer(&'a self) -> Stderr {
        Stderr
    }
}

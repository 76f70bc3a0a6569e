#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let trust = sigaudit::trust::Trust::default();
    let _ = sigaudit::signature::bundle::check_bundle(data, &common::subject(), &trust);
});

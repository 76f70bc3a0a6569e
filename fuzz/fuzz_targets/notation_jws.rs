#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let trust = sigaudit::trust::Trust::default();
    let _ = sigaudit::signature::notation::check_envelope(
        sigaudit::oci::JOSE,
        data,
        &Default::default(),
        &common::subject(),
        "example.test/repo",
        &trust,
        1_800_000_000,
    );
});

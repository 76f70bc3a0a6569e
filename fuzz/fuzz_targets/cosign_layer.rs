#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

// Input: annotations JSON, a NUL byte, then the layer blob.
fuzz_target!(|data: &[u8]| {
    let (ann, blob) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"{}"[..], data),
    };
    let Ok(ann) = serde_json::from_slice::<BTreeMap<String, String>>(ann) else { return };
    let trust = sigaudit::trust::Trust::default();
    let _ = sigaudit::signature::cosign::check_simplesigning(&ann, blob, &common::subject(), &trust);
    let _ = sigaudit::signature::cosign::check_attestation(&ann, blob, &common::subject(), &trust);
});

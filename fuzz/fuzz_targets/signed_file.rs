#![no_main]
use libfuzzer_sys::fuzz_target;

// Detection, PE Authenticode and JAR/APK verification on arbitrary bytes.
fuzz_target!(|data: &[u8]| {
    let trust = sigaudit::trust::Trust { now: 1_800_000_000, ..Default::default() };
    let _ = sigaudit::fs::check_bytes("fuzz", data, &trust);
});

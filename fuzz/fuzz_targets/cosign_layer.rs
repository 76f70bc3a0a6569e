#![no_main]
// The target's code is in fuzz/targets.rs, which tests/fuzz_corpus.rs also runs over the kept corpus.
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::cosign_layer(data));

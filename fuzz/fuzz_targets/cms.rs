#![no_main]
use libfuzzer_sys::fuzz_target;

// Lenient CMS parsing, signer checks and countersignatures on arbitrary DER.
fuzz_target!(|data: &[u8]| {
    if let Ok(sd) = sigaudit::cms::parse_content_info(data) {
        for si in &sd.signers {
            let _ = si.verify(&sd.certificates, data, Some(&sd.content_type));
            let _ = sigaudit::cms::countersignatures(si, &sd.certificates);
        }
    }
});

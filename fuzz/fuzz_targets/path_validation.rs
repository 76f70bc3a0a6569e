#![no_main]
//! Certification path validation over a hostile bag of certificates: input is one byte picking
//! the purpose, one byte marking which certificates are anchors, four bytes of judging time, then
//! DER certificates back to back. Validation must never panic and must stay within its budget.
use libfuzzer_sys::fuzz_target;
use sigaudit::pki::path;
use sigaudit::x509::Cert;

fuzz_target!(|data: &[u8]| {
    let [purpose, mask, t0, t1, t2, t3, rest @ ..] = data else { return };
    let purpose = match purpose % 3 {
        0 => &path::CODE_SIGNING,
        1 => &path::TIMESTAMPING,
        _ => &path::JAR_SIGNING,
    };
    let at = 1_000_000_000 + i64::from(u32::from_be_bytes([*t0, *t1, *t2, *t3]) % 2_000_000_000);
    let mut certs = Vec::new();
    let mut rest = rest;
    while let Ok((tlv, r)) = sigaudit::der::read(rest) {
        if let Ok(c) = Cert::from_der(tlv.raw.to_vec()) {
            certs.push(c);
        }
        rest = r;
        if certs.len() >= 12 {
            break;
        }
    }
    if certs.is_empty() {
        return;
    }
    let anchors: Vec<Cert> =
        certs.iter().enumerate().filter(|(i, _)| mask & (1 << (i % 8)) != 0).map(|(_, c)| c.clone()).collect();
    let _ = path::validate_chain(&certs, &anchors, purpose, at);
    for c in &certs {
        let _ = c.verify_signed_by(c);
        let _ = c.defects();
    }
});

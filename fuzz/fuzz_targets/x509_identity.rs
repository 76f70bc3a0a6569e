#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = sigaudit::x509::Cert::from_der(data.to_vec()) {
        let _ = cert.signer();
        let _ = cert.public_key();
        let _ = cert.chain_entry();
    }
    let _ = sigaudit::x509::Cert::from_pem_chain(data);
    let _ = sigaudit::crypto::PublicKey::from_spki_der(data);
});

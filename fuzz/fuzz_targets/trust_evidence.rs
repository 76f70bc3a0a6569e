#![no_main]
// Evidence a hostile registry controls, checked against real trust material: Rekor bundle
// annotations (SET and entry bodies), RFC 3161 timestamp annotations, and Sigstore bundles by
// the Sigstore rules. The first byte picks the parser.
use libfuzzer_sys::fuzz_target;
use sigaudit::signature::rekor::{self, Logged};
use std::sync::OnceLock;

struct Material {
    trust: sigaudit::trust::Trust,
    roots: sigaudit::sigstore::SigstoreTrust,
}

fn material() -> &'static Material {
    static M: OnceLock<Material> = OnceLock::new();
    M.get_or_init(|| {
        let mut trust = sigaudit::trust::Trust::default();
        trust.add_trusted_root(sigaudit::sigstore::PUBLIC_GOOD_ROOT.as_bytes()).unwrap();
        Material { trust, roots: sigaudit::sigstore::SigstoreTrust::public_good() }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let m = material();
    let text = String::from_utf8_lossy(rest);
    match which % 4 {
        0 => {
            let _ = rekor::verify_set(&text, Logged::Payload { payload: b"p", sig: b"s" }, b"k", &m.trust.logs);
        }
        1 => {
            let logged = Logged::Envelope { envelope: b"{}", payload: b"p", sig: b"s" };
            let _ = rekor::verify_set(&text, logged, b"k", &m.trust.logs);
        }
        2 => {
            let _ = rekor::verify_timestamp_annotation(&text, b"signature", &m.trust.tsas);
        }
        _ => {
            let policy = sigaudit::sigstore::SignerPolicy::default();
            let _ = sigaudit::sigstore::verify_bundle(rest, sigaudit::sigstore::Subject::Sha256([7; 32]), &policy, &m.roots);
        }
    }
});

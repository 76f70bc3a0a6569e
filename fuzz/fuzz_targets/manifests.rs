#![no_main]
use libfuzzer_sys::fuzz_target;

// Everything the crawler reads from a registry before any signature check.
fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<oci_client::manifest::OciImageManifest>(data);
    let _ = serde_json::from_slice::<oci_client::manifest::OciImageIndex>(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = sigaudit::oci::TagKind::of(s);
        let _ = sigaudit::oci::Digest::parse(s);
        let _ = sigaudit::registry::next_link([s]);
        let _ = sigaudit::registry::Challenge::parse(s);
    }
    let _ = sigaudit::crawl::is_signature_artifact(data);
    let _ = sigaudit::oci::classify(data);
    let _ = sigaudit::oci::index_entries(data);
});

// Shared by the fuzz targets: a fixed subject descriptor and no trust material.
#![allow(dead_code)]
use sigaudit::oci::Digest;
use sigaudit::signature::Subject;

pub fn subject() -> Subject {
    Subject {
        digest: Digest::parse("sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0").unwrap(),
        media_type: sigaudit::oci::OCI_MANIFEST.into(),
        size: 481,
    }
}

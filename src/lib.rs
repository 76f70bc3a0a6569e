pub mod crypto;
pub mod oci;
pub mod report;
pub mod signature;
pub mod trust;
pub mod x509;

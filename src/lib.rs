pub mod crawl;
pub mod crypto;
pub mod oci;
pub mod registry;
pub mod report;
pub mod signature;
pub mod trust;
pub mod x509;

//! Public-key infrastructure shared by every verification path: certification path validation
//! and the revocation of the certificates on it.

pub mod crl;
pub mod ocsp;
pub mod online;
pub mod path;
pub mod revocation;

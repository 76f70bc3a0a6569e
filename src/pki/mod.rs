//! Public-key infrastructure shared by every verification path: certification path validation.

pub mod path;

//! persistence adapter (in progress).

pub mod rate_limit;

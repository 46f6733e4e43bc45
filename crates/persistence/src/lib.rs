//! persistence adapter (in progress).

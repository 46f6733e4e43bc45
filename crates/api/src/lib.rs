//! HTTP wiring (in progress).

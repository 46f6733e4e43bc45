//! sandbox adapter (in progress).

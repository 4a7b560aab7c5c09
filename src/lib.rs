//! Umbrella package of the workspace: it holds the cross-crate scenario tests (`tests/`) and the
//! benchmarks (`benches/`), so that `snapshots/` at the top level belongs to a package.
#![forbid(unsafe_code)]

pub use qtest_frontend;
pub use smmu;
pub use testdev;

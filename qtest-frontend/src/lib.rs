//! QEMU-compatible qtest frontend: protocol, machine, transports.
#![forbid(unsafe_code)]

pub mod bus;
pub mod machine;

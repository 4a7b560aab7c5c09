//! QEMU-compatible qtest frontend: protocol, machine, transports.
#![forbid(unsafe_code)]

pub mod bus;
pub mod cli;
pub mod log;
pub mod machine;
pub mod protocol;
pub mod qmp;
pub mod run;
pub mod server;
pub mod transport;

#[cfg(test)]
mod testing;

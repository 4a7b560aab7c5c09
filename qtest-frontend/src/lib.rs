//! QEMU-compatible qtest frontend: protocol, machine, transports.
#![forbid(unsafe_code)]

pub mod bus;
pub mod protocol;

#[cfg(test)]
mod testing;

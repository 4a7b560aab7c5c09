//! `smmu-system-aarch64`: a QEMU-compatible emulator binary for the SMMUv3 model. The name
//! ends in `-system-aarch64` so that libqtest's `QTEST_QEMU_BINARY` can point straight at it.

use qtest_frontend::cli::MachineApi;
use qtest_frontend::machine;

const MACHINE: MachineApi = MachineApi {
    build: machine::build_machine,
    help_machines: machine::help_machines,
    help_devices: machine::help_devices,
    help_device: machine::help_device,
};

fn main() {
    let code = qtest_frontend::server::main(std::env::args_os().collect(), &MACHINE);
    std::process::exit(code);
}

use super::*;
use crate::testing::*;

/// Sends one line and returns everything written back.
fn send(p: &mut Protocol, bus: &mut FakeBus, line: &str) -> String {
    let mut out = Vec::new();
    p.execute(bus, line.as_bytes(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn fresh() -> (Protocol, FakeBus) {
    (Protocol::new(true), FakeBus::new())
}

fn one(line: &str) -> String {
    let (mut p, mut bus) = fresh();
    send(&mut p, &mut bus, line)
}

// ----- number parsing ----------------------------------------------------------------

#[test]
fn hex_octal_decimal_and_negative_numbers_parse_as_strtoull() {
    let cases: &[(&str, u64)] = &[
        ("0x1F", 0x1f),
        ("0X10", 0x10),
        ("010", 8),
        ("0", 0),
        ("123", 123),
        ("-1", u64::MAX),
        ("-0x10", 0u64.wrapping_sub(0x10)),
        ("+5", 5),
        ("\t7", 7),
        ("0xffffffffffffffff", u64::MAX),
    ];
    for &(tok, want) in cases {
        assert_eq!(parse_u64(tok).ok(), Some(want), "{tok}");
    }
}

#[test]
fn trailing_garbage_empty_and_overflow_are_rejected() {
    for tok in ["0x", "0xg", "08", "12a", "", "-", "0x1ffffffffffffffff", "1 "] {
        assert!(parse_u64(tok).is_err(), "{tok:?}");
    }
}

#[test]
fn signed_parsing_bounds_follow_strtoll() {
    assert_eq!(parse_i64("-9223372036854775808").ok(), Some(i64::MIN));
    assert!(parse_i64("9223372036854775808").is_err());
    assert_eq!(parse_i32("-5").ok(), Some(-5));
    assert!(parse_i32("0x80000000").is_err());
}

// ----- sized accesses ------------------------------------------------------------------

#[test]
fn readl_prints_sixteen_hex_digits() {
    let (mut p, mut bus) = fresh();
    bus.ram[0x1000..0x1004].copy_from_slice(&[0x1b, 0x10, 0x44, 0x0d]);
    assert_eq!(send(&mut p, &mut bus, "readl 0x40001000"), "OK 0x000000000d44101b\n");
}

#[test]
fn write_values_are_truncated_to_the_access_width_little_endian() {
    let (mut p, mut bus) = fresh();
    assert_eq!(send(&mut p, &mut bus, "writel 0x40000000 0x123456789"), "OK\n");
    assert_eq!(&bus.ram[0..5], &[0x89, 0x67, 0x45, 0x23, 0x00]);
    send(&mut p, &mut bus, "writeq 0x40000010 -1");
    assert_eq!(&bus.ram[0x10..0x18], &[0xff; 8]);
    send(&mut p, &mut bus, "writeb 0x40000020 010");
    assert_eq!(bus.ram[0x20], 8);
}

#[test]
fn one_trailing_space_is_accepted() {
    assert_eq!(one("readb 0x40000000 "), "OK 0x0000000000000000\n");
}

#[test]
fn unassigned_read_without_attrs_answers_ok_zero() {
    assert_eq!(one("readq 0x1000"), "OK 0x0000000000000000\n");
}

#[test]
fn rejected_size_read_without_attrs_answers_ok_zero() {
    let (mut p, mut bus) = fresh();
    bus.reg = 0xdead_beef;
    assert_eq!(send(&mut p, &mut bus, &format!("readb {DEV_BASE:#x}")), "OK 0x0000000000000000\n");
}

#[test]
fn unassigned_write_without_attrs_answers_ok() {
    assert_eq!(one("writel 0x1000 0x5"), "OK\n");
}

// ----- attrs ---------------------------------------------------------------------------

#[test]
fn unassigned_access_with_attrs_fails_with_decode_error() {
    assert_eq!(one("readl 0x1000 space=non-secure"), "ERR memory access failed 0x2\n");
    assert_eq!(one("writel 0x1000 1 secure"), "ERR memory access failed 0x2\n");
}

#[test]
fn device_error_with_attrs_reports_memtx_error() {
    assert_eq!(one(&format!("readl {BROKEN_BASE:#x} secure")), "ERR memory access failed 0x1\n");
}

#[test]
fn secure_window_answers_secure_and_root_but_not_realm() {
    let (mut p, mut bus) = fresh();
    let a = SECURE_BASE;
    assert_eq!(send(&mut p, &mut bus, &format!("writel {a:#x} 0x77 secure")), "OK\n");
    assert_eq!(
        send(&mut p, &mut bus, &format!("readl {a:#x} space=root")),
        "OK 0x0000000000000077\n"
    );
    assert_eq!(
        send(&mut p, &mut bus, &format!("readl {a:#x} space=realm")),
        "ERR memory access failed 0x2\n"
    );
    assert_eq!(send(&mut p, &mut bus, &format!("readl {a:#x}")), "OK 0x0000000000000000\n");
}

#[test]
fn bad_attrs_tokens_get_the_v2_errors() {
    assert_eq!(one("readl 0x40000000 nonsecure"), "ERR invalid attrs argument\n");
    assert_eq!(
        one("readl 0x40000000 space=Secure"),
        "ERR invalid space value. Valid space: secure/non-secure/root/realm\n"
    );
    assert_eq!(one("readl 0x40000000 secure x"), "ERR too many arguments\n");
    assert_eq!(one("memset 0x40000000 4 0 secure extra"), "ERR too many arguments\n");
}

#[test]
fn non_memory_commands_ignore_extra_tokens_as_qemu_does() {
    assert_eq!(one("inb 0x10 secure"), one("inb 0x10"));
    assert_eq!(one("endianness little"), "OK little\n");
}

#[test]
fn a_line_of_many_tokens_keeps_only_the_arguments_a_command_can_use() {
    let line = format!("endianness{}", " x".repeat(10_000));
    let (cmd, args) = split_words(&line).ok().unwrap();
    assert_eq!(cmd, "endianness");
    assert_eq!(args.len(), MAX_ARGS + 1);
    assert!(args.capacity() <= MAX_ARGS + 1, "capacity {}", args.capacity());
}

#[test]
fn many_trailing_tokens_keep_their_replies() {
    let tail = " x".repeat(10_000);
    assert_eq!(one(&format!("endianness{tail}")), "OK little\n");
    assert_eq!(one(&format!("readl 0x40000000 secure{tail}")), "ERR too many arguments\n");
    let empty_far_out = format!("endianness{tail}  x");
    assert_eq!(one(&empty_far_out), "ERR empty argument (two spaces in a row)\n");
}

// ----- bulk commands -------------------------------------------------------------------

#[test]
fn read_prints_bytes_in_memory_order() {
    let (mut p, mut bus) = fresh();
    bus.ram[0..4].copy_from_slice(&[0x78, 0x56, 0x34, 0x12]);
    assert_eq!(send(&mut p, &mut bus, "read 0x40000000 0x4"), "OK 0x78563412\n");
}

#[test]
fn write_short_data_is_zero_filled_and_long_data_truncated() {
    let (mut p, mut bus) = fresh();
    bus.ram[0..4].fill(0xee);
    assert_eq!(send(&mut p, &mut bus, "write 0x40000000 0x4 0x1234"), "OK\n");
    assert_eq!(&bus.ram[0..4], &[0x12, 0x34, 0, 0]);
    send(&mut p, &mut bus, "write 0x40000000 0x2 0xaabbccdd");
    assert_eq!(&bus.ram[0..4], &[0xaa, 0xbb, 0, 0]);
}

#[test]
fn write_of_three_characters_writes_zeros_and_two_is_an_error() {
    let (mut p, mut bus) = fresh();
    bus.ram[0] = 0xee;
    assert_eq!(send(&mut p, &mut bus, "write 0x40000000 0x1 0x1"), "OK\n");
    assert_eq!(bus.ram[0], 0);
    assert_eq!(send(&mut p, &mut bus, "write 0x40000000 0x1 0x"), "ERR invalid argument size\n");
}

#[test]
fn write_with_bad_hex_is_an_error_and_writes_nothing() {
    let (mut p, mut bus) = fresh();
    assert!(send(&mut p, &mut bus, "write 0x40000000 0x2 0x12zz").starts_with("ERR "));
    assert_eq!(&bus.ram[0..2], &[0, 0]);
}

#[test]
fn b64read_is_standard_base64_with_padding() {
    let (mut p, mut bus) = fresh();
    bus.ram[0..4].copy_from_slice(b"qemu");
    assert_eq!(send(&mut p, &mut bus, "b64read 0x40000000 4"), "OK cWVtdQ==\n");
    assert_eq!(send(&mut p, &mut bus, "b64read 0x40000000 0"), "OK \n");
}

#[test]
fn b64write_decodes_and_zero_fills_to_size() {
    let (mut p, mut bus) = fresh();
    bus.ram[0..6].fill(0xee);
    assert_eq!(send(&mut p, &mut bus, "b64write 0x40000000 6 cWVtdQ=="), "OK\n");
    assert_eq!(&bus.ram[0..6], b"qemu\0\0");
}

#[test]
fn b64write_with_invalid_base64_is_an_error() {
    assert!(one("b64write 0x40000000 4 cW!tdQ==").starts_with("ERR invalid base64"));
    assert_eq!(one("b64write 0x40000000 4 cW"), "ERR invalid argument size\n");
}

#[test]
fn memset_truncates_the_value_and_accepts_size_zero() {
    let (mut p, mut bus) = fresh();
    assert_eq!(send(&mut p, &mut bus, "memset 0x40000000 4 0x1ab"), "OK\n");
    assert_eq!(&bus.ram[0..5], &[0xab, 0xab, 0xab, 0xab, 0]);
    assert_eq!(send(&mut p, &mut bus, "memset 0x1000 0 0"), "OK\n");
}

#[test]
fn read_of_size_zero_is_an_error() {
    assert!(one("read 0x40000000 0").starts_with("ERR "));
}

#[test]
fn sizes_beyond_the_machine_memory_are_rejected_before_access() {
    let (mut p, mut bus) = fresh();
    let too_big = RAM_SIZE + 1;
    for cmd in ["read", "b64read"] {
        let r = send(&mut p, &mut bus, &format!("{cmd} 0x40000000 {too_big:#x}"));
        assert!(r.starts_with("ERR SIZE"), "{r}");
    }
    let r = send(&mut p, &mut bus, &format!("memset 0x40000000 {too_big:#x} 0"));
    assert!(r.starts_with("ERR SIZE"), "{r}");
    assert_eq!(bus.largest_access, 0);
}

#[test]
fn large_read_streams_in_chunks_and_matches_memory() {
    let (mut p, mut bus) = fresh();
    for (i, b) in bus.ram.iter_mut().enumerate() {
        *b = (i * 7) as u8;
    }
    let r = send(&mut p, &mut bus, &format!("read 0x40000000 {RAM_SIZE:#x}"));
    let hex: String = bus.ram.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(r, format!("OK 0x{hex}\n"));
    assert!(bus.largest_access <= CHUNK);
}

#[test]
fn large_b64read_equals_one_shot_encoding() {
    let (mut p, mut bus) = fresh();
    for (i, b) in bus.ram.iter_mut().enumerate() {
        *b = (i * 13 + 1) as u8;
    }
    let len = 3 * CHUNK + 1;
    let r = send(&mut p, &mut bus, &format!("b64read 0x40000001 {len:#x}"));
    let want = STANDARD.encode(&bus.ram[1..1 + len]);
    assert_eq!(r, format!("OK {want}\n"));
}

#[test]
fn large_write_and_b64write_land_in_memory() {
    let (mut p, mut bus) = fresh();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 31) as u8).collect();
    let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
    let r = send(&mut p, &mut bus, &format!("write 0x40000003 {:#x} 0x{hex}", data.len()));
    assert_eq!(r, "OK\n");
    assert_eq!(&bus.ram[3..3 + data.len()], &data[..]);
    let rev: Vec<u8> = data.iter().rev().copied().collect();
    let b64 = STANDARD.encode(&rev);
    let r = send(&mut p, &mut bus, &format!("b64write 0x40000000 {:#x} {b64}", rev.len()));
    assert_eq!(r, "OK\n");
    assert_eq!(&bus.ram[..rev.len()], &rev[..]);
    assert!(bus.largest_access <= CHUNK);
}

#[test]
fn read_straddling_the_end_of_ram_keeps_the_mapped_part() {
    let (mut p, mut bus) = fresh();
    let last = RAM_SIZE as usize - 2;
    bus.ram[last..].copy_from_slice(&[0xaa, 0xbb]);
    let addr = RAM_BASE + RAM_SIZE - 2;
    assert_eq!(send(&mut p, &mut bus, &format!("read {addr:#x} 4")), "OK 0xaabb0000\n");
    assert_eq!(
        send(&mut p, &mut bus, &format!("read {addr:#x} 4 secure")),
        "ERR memory access failed 0x2\n"
    );
}

#[test]
fn access_wrapping_the_address_space_is_unassigned() {
    assert_eq!(one("read 0xfffffffffffffffe 4"), "OK 0x00000000\n");
    assert_eq!(one("read 0xfffffffffffffffe 4 secure"), "ERR memory access failed 0x2\n");
}

// ----- other commands ------------------------------------------------------------------

#[test]
fn empty_port_space_reads_all_ones_at_the_width() {
    assert_eq!(one("inb 0x10"), "OK 0x00ff\n");
    assert_eq!(one("inw 0x10"), "OK 0xffff\n");
    assert_eq!(one("inl 0x10"), "OK 0xffffffff\n");
    assert_eq!(one("outl 0xffff 0x1"), "OK\n");
}

#[test]
fn ports_beyond_0xffff_are_an_error() {
    assert!(one("inb 0x10000").starts_with("ERR port"));
    assert!(one("outb -1 0").starts_with("ERR port"));
}

#[test]
fn endianness_is_little() {
    assert_eq!(one("endianness"), "OK little\n");
}

#[test]
fn clock_step_without_timers_has_no_deadline() {
    assert_eq!(
        one("clock_step"),
        "FAIL cannot advance clock to the next deadline because there is no pending deadline\n"
    );
}

#[test]
fn clock_step_and_set_move_the_virtual_clock_forward_only() {
    let (mut p, mut bus) = fresh();
    assert_eq!(send(&mut p, &mut bus, "clock_step 100"), "OK 100\n");
    assert_eq!(send(&mut p, &mut bus, "clock_step -5"), "FAIL could not advance time\n");
    assert_eq!(send(&mut p, &mut bus, "clock_set 50"), "FAIL 100\n");
    assert_eq!(send(&mut p, &mut bus, "clock_set 100"), "OK 100\n");
    assert_eq!(send(&mut p, &mut bus, "clock_set 0x1000"), "OK 4096\n");
    assert_eq!(p.clock_ns(), 4096);
}

#[test]
fn clock_commands_do_not_exist_without_qtest_accel() {
    let mut p = Protocol::new(false);
    let mut bus = FakeBus::new();
    assert_eq!(send(&mut p, &mut bus, "clock_step 10"), "FAIL Unknown command 'clock_step'\n");
}

#[test]
fn module_load_fails() {
    assert_eq!(one("module_load accel tcg"), "FAIL\n");
}

#[test]
fn unknown_command_keeps_qemu_text() {
    assert_eq!(one("frobnicate 1 2"), "FAIL Unknown command 'frobnicate'\n");
    assert_eq!(one(" readl 0x0"), "FAIL Unknown command ''\n");
}

#[test]
fn blank_lines_and_comments_get_no_reply() {
    let (mut p, mut bus) = fresh();
    let mut out = Vec::new();
    assert_eq!(p.execute(&mut bus, b"", &mut out).unwrap(), Status::Ignored);
    assert_eq!(p.execute(&mut bus, b"# readl 0x0", &mut out).unwrap(), Status::Ignored);
    assert!(out.is_empty());
}

#[test]
fn malformed_lines_get_exactly_one_err_line() {
    let cases = [
        "readl",
        "readl  0x40000000",
        "readl 0x40000000\r",
        "readl zz",
        "writel 0x40000000",
        "read 0x40000000",
        "write 0x40000000 4",
        "memset 0x40000000 4",
        "clock_set",
        "clock_set x",
        "set_irq_in /machine/smmuv3 unnamed-gpio-in 0 1",
        "readl 0x40000000  ",
    ];
    for line in cases {
        let r = one(line);
        assert!(r.starts_with("ERR "), "{line:?} -> {r:?}");
        assert_eq!(r.matches('\n').count(), 1, "{line:?}");
    }
}

#[test]
fn non_utf8_line_is_an_error() {
    let (mut p, mut bus) = fresh();
    let mut out = Vec::new();
    let st = p.execute(&mut bus, b"readl \xff\xfe", &mut out).unwrap();
    assert_eq!(st, Status::Err);
    assert_eq!(out, b"ERR line is not valid UTF-8\n");
}

// ----- interrupts ----------------------------------------------------------------------

fn pulse(line: u8) -> String {
    format!("writel {:#x} {line}", DEV_BASE + 8)
}

#[test]
fn intercepted_pulse_is_reported_before_the_ok() {
    let (mut p, mut bus) = fresh();
    assert_eq!(
        send(&mut p, &mut bus, &format!("irq_intercept_out {SMMU_PATH} sysbus-irq")),
        "OK\n"
    );
    assert_eq!(send(&mut p, &mut bus, &pulse(3)), "IRQ raise 3\nIRQ lower 3\nOK\n");
}

#[test]
fn alias_path_intercepts_the_same_device() {
    let (mut p, mut bus) = fresh();
    assert_eq!(send(&mut p, &mut bus, "irq_intercept_out /machine/smmuv3 sysbus-irq"), "OK\n");
    assert_eq!(
        send(&mut p, &mut bus, &format!("irq_intercept_out {SMMU_PATH} sysbus-irq")),
        "OK\n"
    );
    assert_eq!(send(&mut p, &mut bus, &pulse(0)), "IRQ raise 0\nIRQ lower 0\nOK\n");
}

#[test]
fn pulses_without_interception_are_silent() {
    let (mut p, mut bus) = fresh();
    assert_eq!(send(&mut p, &mut bus, &pulse(2)), "OK\n");
}

#[test]
fn unnamed_out_list_and_unknown_device_fail_as_in_qemu() {
    let (mut p, mut bus) = fresh();
    assert_eq!(
        send(&mut p, &mut bus, &format!("irq_intercept_out {SMMU_PATH}")),
        "FAIL No intercepts installed\n"
    );
    assert_eq!(
        send(&mut p, &mut bus, "irq_intercept_out /machine/nothing"),
        "FAIL Unknown device\n"
    );
    assert_eq!(
        send(&mut p, &mut bus, "irq_intercept_in /machine/smmuv3 x"),
        "FAIL Interception of named in-GPIOs not yet supported\n"
    );
}

#[test]
fn inbound_interception_succeeds_but_then_blocks_outbound_forwarding() {
    let (mut p, mut bus) = fresh();
    assert_eq!(send(&mut p, &mut bus, "irq_intercept_in /machine/smmuv3"), "OK\n");
    assert_eq!(send(&mut p, &mut bus, "irq_intercept_out /machine/smmuv3 sysbus-irq"), "OK\n");
    assert_eq!(send(&mut p, &mut bus, &pulse(1)), "OK\n");
}

#[test]
fn partial_path_resolves_a_unique_device() {
    assert_eq!(one("irq_intercept_out smmuv3 sysbus-irq"), "OK\n");
}

#[test]
fn set_irq_in_on_unknown_device_fails_and_on_smmu_errs() {
    assert_eq!(one("set_irq_in /nope unnamed-gpio-in 0 1"), "FAIL Unknown device\n");
    assert!(one("set_irq_in /machine/smmuv3 unnamed-gpio-in 0 1").starts_with("ERR "));
}

#[test]
fn reopened_connection_drops_stale_pulses() {
    let (mut p, mut bus) = fresh();
    send(&mut p, &mut bus, "irq_intercept_out /machine/smmuv3 sysbus-irq");
    bus.irqs.push((SMMU_PATH.to_string(), 1));
    p.connection_opened(&mut bus);
    assert_eq!(send(&mut p, &mut bus, "readl 0x40000000"), "OK 0x0000000000000000\n");
}

#[test]
fn too_long_line_reply_names_the_limit() {
    let mut p = Protocol::new(true);
    let mut out = Vec::new();
    assert_eq!(p.line_too_long(5, &mut out).unwrap(), Status::Err);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "ERR line too long (5 bytes; the limit is 2147483648 bytes)\n"
    );
}

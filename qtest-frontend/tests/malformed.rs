//! A corpus of malformed lines over the stdio transport: each gets exactly one ERR or FAIL
//! line and the next valid line is still answered.

mod common;

use common::*;

const CORPUS: &[&[u8]] = &[
    b"readl",
    b"readl  0x40000000",
    b"readl 0x40000000\r",
    b"readl 0xzz",
    b"readl 0x1ffffffffffffffff",
    b"readq 0x40000000 secure extra",
    b"readq 0x40000000 insecure",
    b"readq 0x40000000 space=everywhere",
    b"writel 0x40000000",
    b"writel 0x40000000 12x",
    b"read 0x40000000",
    b"read 0x40000000 0",
    b"read 0x40000000 0x1000000000",
    b"b64read 0x40000000 0xffffffffffffffff",
    b"write 0x40000000 4",
    b"write 0x40000000 4 0x",
    b"write 0x40000000 4 0x12zz",
    b"write 0x40000000 4 1234",
    b"b64write 0x40000000 4 !!!!",
    b"b64write 0x40000000 4 ab",
    b"memset 0x40000000 4",
    b"memset 0x40000000 0x1000000000 0",
    b"inb 0x10000",
    b"outw -1 0",
    b"outl 0x10",
    b"clock_step x",
    b"clock_set",
    b"irq_intercept_out",
    b"irq_intercept_out /machine/nowhere sysbus-irq",
    b"irq_intercept_in /machine/smmuv3 named",
    b"set_irq_in /machine/smmuv3 unnamed-gpio-in 0",
    b"set_irq_in /machine/smmuv3 unnamed-gpio-in 0 1",
    b"module_load",
    b"module_load a b",
    b"readl \xff\xfe",
    b"\xc3\x28",
    b"frobnicate",
    b" ",
    b"  readl 0x0",
    b"readl 0x40000000  ",
];

#[test]
fn each_malformed_line_gets_one_error_and_the_server_keeps_serving() {
    let mut input = Vec::new();
    for line in CORPUS {
        input.extend_from_slice(line);
        input.extend_from_slice(b"\nendianness\n");
    }
    let out = run_stdio("-M virt -m 512 -accel qtest", &input);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2 * CORPUS.len(), "{out}");
    for (i, pair) in lines.chunks(2).enumerate() {
        let bad = String::from_utf8_lossy(CORPUS[i]);
        assert!(
            pair[0].starts_with("ERR ") || pair[0].starts_with("FAIL"),
            "{bad:?} -> {:?}",
            pair[0]
        );
        assert_eq!(pair[1], "OK little", "after {bad:?}");
    }
}

#[test]
fn comments_blank_lines_and_one_trailing_space_are_accepted() {
    let out = run_stdio(
        "-M virt -m 512",
        b"# a comment\n\nendianness \nwritel 0x40000000 0x5 \nreadl 0x40000000 \n",
    );
    assert_eq!(out, "OK little\nOK\nOK 0x0000000000000005\n");
}

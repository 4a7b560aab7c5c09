//! Register decode and per-register behaviour. Expected values are written out from the spec
//! tables (IHI 0070 §6.3) and QEMU's observed values, not computed with our accessors.

use super::rig::Rig;
use super::*;

/// A v3.2 configuration with MSI, PRI, ATS, Hyp, BTM and VMW on top of `full()`.
fn rich() -> SmmuConfig {
    SmmuConfig {
        // qemu-virt IDR0 | PRI (16) | MSI (13) | ATS (10) | Hyp (9) | BTM (5) | VMW (17)
        idr0: 0x0d44_101b | (1 << 16) | (1 << 13) | (1 << 10) | (1 << 9) | (1 << 5) | (1 << 17),
        // qemu-virt IDR1 with PRIQS = 8
        idr1: 0x0273_4010,
        aidr: 2,
        ..SmmuConfig::full()
    }
}

fn qemu() -> Rig {
    Rig::new(SmmuConfig::qemu_virt())
}

fn ns(reg: Reg, part: Part) -> Decoded {
    Decoded::Reg { sec: SecSid::NonSecure, reg, part }
}

// ---------------------------------------------------------------------------------------------
// Decode: sizes, alignment, pages.

#[test]
fn one_and_two_byte_accesses_are_rejected() {
    let cfg = SmmuConfig::qemu_virt();
    for size in [1, 2] {
        assert!(matches!(decode(&cfg, 0x20, size, Pas::NonSecure), Decoded::Reject(_)));
    }
}

#[test]
fn sizes_other_than_4_and_8_are_rejected() {
    let cfg = SmmuConfig::qemu_virt();
    for size in [0, 3, 5, 16] {
        assert!(matches!(decode(&cfg, 0x80, size, Pas::NonSecure), Decoded::Reject(_)));
    }
}

#[test]
fn unaligned_accesses_are_rejected() {
    let cfg = SmmuConfig::qemu_virt();
    assert!(matches!(decode(&cfg, 0x22, 4, Pas::NonSecure), Decoded::Reject(_)));
    assert!(matches!(decode(&cfg, 0x84, 8, Pas::NonSecure), Decoded::Reject(_)));
}

#[test]
fn accesses_beyond_the_region_are_rejected() {
    let cfg = SmmuConfig::qemu_virt();
    assert!(matches!(decode(&cfg, 0x20000, 4, Pas::NonSecure), Decoded::Reject(_)));
    assert!(matches!(decode(&cfg, u64::MAX - 7, 8, Pas::NonSecure), Decoded::Reject(_)));
}

#[test]
fn rejected_access_is_a_bus_error_and_is_traced() {
    let mut rig = qemu();
    assert_eq!(rig.read(0x20, 2, Pas::NonSecure), Err(BusError::Unassigned));
    assert_eq!(rig.write(0x21, 4, 1, Pas::NonSecure), Err(BusError::Unassigned));
    assert_eq!(rig.trace.events.len(), 2);
    assert_eq!(rig.smmu.bank(SecSid::NonSecure).cr0, 0);
}

#[test]
fn halves_of_a_64_bit_register_decode_to_lo_and_hi() {
    let cfg = SmmuConfig::qemu_virt();
    assert_eq!(decode(&cfg, 0x80, 4, Pas::NonSecure), ns(Reg::StrtabBase, Part::Lo));
    assert_eq!(decode(&cfg, 0x84, 4, Pas::NonSecure), ns(Reg::StrtabBase, Part::Hi));
    assert_eq!(decode(&cfg, 0x80, 8, Pas::NonSecure), ns(Reg::StrtabBase, Part::Dword));
}

#[test]
fn a_64_bit_access_to_32_bit_registers_is_raz_wi() {
    let cfg = SmmuConfig::qemu_virt();
    for offset in [0x20, 0x98, 0x88, 0x70] {
        assert!(matches!(decode(&cfg, offset, 8, Pas::NonSecure), Decoded::RazWi(_)));
    }
}

#[test]
fn a_64_bit_read_of_cmdq_prod_and_cons_reads_zero_and_writes_nothing() {
    let mut rig = qemu();
    rig.w64(0x90, 0x4801_0004);
    rig.w32(0x98, 3);
    assert_eq!(rig.r64(0x98), 0);
    rig.w64(0x98, 0x0000_0005_0000_0007);
    assert_eq!(rig.r32(0x98), 3);
}

#[test]
fn reserved_offsets_are_raz_wi() {
    let cfg = SmmuConfig::qemu_virt();
    for offset in [0x30, 0x100, 0x190, 0x7ff0, 0x10000, 0x10020, 0x1fffc] {
        assert!(
            matches!(decode(&cfg, offset, 4, Pas::NonSecure), Decoded::RazWi(_)),
            "{offset:#x}"
        );
    }
}

#[test]
fn page1_holds_eventq_prod_and_cons() {
    let cfg = SmmuConfig::qemu_virt();
    assert_eq!(decode(&cfg, 0x100a8, 4, Pas::NonSecure), ns(Reg::EventqProd, Part::Word));
    assert_eq!(decode(&cfg, 0x100ac, 4, Pas::NonSecure), ns(Reg::EventqCons, Part::Word));
}

#[test]
fn page0_alias_on_answers_eventq_prod_at_0xa8() {
    let cfg = SmmuConfig { page0_alias: true, ..SmmuConfig::qemu_virt() };
    assert_eq!(decode(&cfg, 0xa8, 4, Pas::NonSecure), ns(Reg::EventqProd, Part::Word));
    assert_eq!(decode(&cfg, 0xac, 4, Pas::NonSecure), ns(Reg::EventqCons, Part::Word));
}

#[test]
fn page0_alias_off_leaves_0xa8_reserved() {
    let cfg = SmmuConfig { page0_alias: false, ..SmmuConfig::qemu_virt() };
    assert!(matches!(decode(&cfg, 0xa8, 4, Pas::NonSecure), Decoded::RazWi(_)));
    assert!(matches!(decode(&cfg, 0xac, 4, Pas::NonSecure), Decoded::RazWi(_)));
}

#[test]
fn page0_alias_and_page1_are_the_same_register() {
    let mut rig = qemu();
    rig.w64(0xa0, 0x4802_0004);
    rig.w32(0x100ac, 0x3);
    assert_eq!(rig.r32(0xac), 0x3);
}

#[test]
fn priq_page1_registers_alias_only_with_pri() {
    let cfg = SmmuConfig::qemu_virt();
    assert!(matches!(decode(&cfg, 0xc8, 4, Pas::NonSecure), Decoded::RazWi(_)));
    let cfg = rich();
    assert_eq!(decode(&cfg, 0xc8, 4, Pas::NonSecure), ns(Reg::PriqProd, Part::Word));
    assert_eq!(decode(&cfg, 0x100cc, 4, Pas::NonSecure), ns(Reg::PriqCons, Part::Word));
}

#[test]
fn ns_page0_answers_every_pas() {
    let cfg = SmmuConfig::full();
    for pas in Pas::ALL {
        assert_eq!(decode(&cfg, 0x20, 4, pas), ns(Reg::Cr0, Part::Word), "{pas}");
    }
}

#[test]
fn secure_page_is_raz_wi_to_non_secure_and_realm() {
    let cfg = SmmuConfig::full();
    for pas in [Pas::NonSecure, Pas::Realm] {
        assert!(matches!(decode(&cfg, 0x8020, 4, pas), Decoded::RazWi(_)), "{pas}");
    }
}

#[test]
fn secure_page_answers_secure_and_root() {
    let cfg = SmmuConfig::full();
    for pas in [Pas::Secure, Pas::Root] {
        assert_eq!(
            decode(&cfg, 0x8020, 4, pas),
            Decoded::Reg { sec: SecSid::Secure, reg: Reg::Cr0, part: Part::Word }
        );
    }
}

#[test]
fn secure_page_is_raz_wi_without_secure_impl() {
    let cfg = SmmuConfig::qemu_virt();
    assert!(matches!(decode(&cfg, 0x8020, 4, Pas::Secure), Decoded::RazWi(_)));
}

#[test]
fn secure_page_has_no_priq() {
    let cfg = SmmuConfig { secure_impl: true, ..rich() };
    assert!(matches!(decode(&cfg, 0x80c0, 8, Pas::Secure), Decoded::RazWi(_)));
}

#[test]
fn priq_registers_are_raz_wi_without_pri() {
    let mut rig = qemu();
    rig.w64(0xc0, 0x4000_0004);
    assert_eq!(rig.r64(0xc0), 0);
}

#[test]
fn irq_cfg_registers_are_raz_wi_without_msi() {
    let mut rig = qemu();
    rig.w64(0x68, 0x4000_0000);
    rig.w32(0x70, 0x1234);
    rig.w64(0xb0, 0x4000_0000);
    assert_eq!(rig.r64(0x68), 0);
    assert_eq!(rig.r32(0x70), 0);
    assert_eq!(rig.r64(0xb0), 0);
}

#[test]
fn mmio_size_of_qemu_virt_is_two_pages() {
    assert_eq!(Smmu::new(SmmuConfig::qemu_virt()).mmio_size(), 0x20000);
    assert_eq!(Smmu::new(SmmuConfig::full()).mmio_size(), 0x20000);
}

#[test]
fn mmio_size_with_rme_covers_root_and_realm_pages() {
    // IDR0.RME_IMPL is bit 30.
    let cfg = SmmuConfig { idr0: 0x0d44_101b | (1 << 30), ..SmmuConfig::qemu_virt() };
    // Root page 0x20000-0x2ffff, Realm pages (BA_REALM 2) 0x40000-0x5ffff.
    assert_eq!(Smmu::new(cfg.clone()).mmio_size(), 0x60000);
    let cfg = SmmuConfig { root_offset: 0xa0000, ..cfg };
    assert_eq!(Smmu::new(cfg).mmio_size(), 0xb0000);
}

#[test]
fn root_and_realm_pages_are_raz_wi_for_now() {
    let cfg = SmmuConfig { idr0: 0x0d44_101b | (1 << 30), ..SmmuConfig::qemu_virt() };
    for pas in Pas::ALL {
        assert!(matches!(decode(&cfg, 0x20020, 4, pas), Decoded::RazWi(_)));
        assert!(matches!(decode(&cfg, 0x40020, 4, pas), Decoded::RazWi(_)));
    }
}

#[test]
fn accesses_are_traced_with_the_register_name() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.w32(0x20, 0x1);
    rig.rs(0x8024);
    rig.r32(0x30);
    let names: Vec<_> = rig
        .trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Mmio { reg, .. } => Some(*reg),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["CR0", "S_CR0ACK", "(reserved)"]);
    assert_eq!(
        rig.trace.events[0],
        TraceEvent::Mmio {
            write: true,
            offset: 0x20,
            size: 4,
            value: 1,
            pas: Pas::NonSecure,
            reg: "CR0"
        }
    );
}

// ---------------------------------------------------------------------------------------------
// ID registers.

#[test]
fn id_registers_read_qemu_virt_values() {
    let mut rig = qemu();
    let expect = [
        (0x00, 0x0d44_101b),
        (0x04, 0x0273_0010),
        (0x08, 0),
        (0x0c, 0x1414),
        (0x10, 0),
        (0x14, 0x74),
        (0x18, 0),
        (0x1c, 0x1),
    ];
    for (offset, value) in expect {
        assert_eq!(rig.r32(offset), value, "{offset:#x}");
    }
}

#[test]
fn id_block_reads_qemu_mmu600_values() {
    let mut rig = qemu();
    assert_eq!(rig.r32(0xfd0), 0x04);
    assert_eq!(rig.r32(0xfe0), 0x84);
    assert_eq!(rig.r32(0xfe4), 0xb4);
    assert_eq!(rig.r32(0xff0), 0x0d);
    assert_eq!(rig.r32(0xffc), 0xb1);
}

#[test]
fn id_registers_ignore_writes() {
    let mut rig = qemu();
    rig.w32(0x00, 0);
    rig.w32(0xfe0, 0);
    assert_eq!(rig.r32(0x00), 0x0d44_101b);
    assert_eq!(rig.r32(0xfe0), 0x84);
}

#[test]
fn statusr_reads_zero() {
    let mut rig = qemu();
    rig.w32(0x40, 0xffff_ffff);
    assert_eq!(rig.r32(0x40), 0);
}

// ---------------------------------------------------------------------------------------------
// Reset values.

#[test]
fn reset_values() {
    let mut rig = qemu();
    for offset in [0x20, 0x24, 0x28, 0x2c, 0x50, 0x54, 0x60, 0x64, 0x88, 0x98, 0x9c, 0xa8, 0xac] {
        assert_eq!(rig.r32(offset), 0, "{offset:#x}");
    }
    assert_eq!(rig.r32(0x44), 0x1000, "GBPA: SHCFG=use incoming");
    for offset in [0x80, 0x90, 0xa0] {
        assert_eq!(rig.r64(offset), 0, "{offset:#x}");
    }
}

#[test]
fn reset_restores_register_values() {
    let mut rig = qemu();
    rig.w32(0x20, 0xd);
    rig.w64(0x90, 0x4801_0004);
    rig.smmu.reset();
    assert_eq!(rig.r32(0x24), 0);
    assert_eq!(rig.r64(0x90), 0);
}

// ---------------------------------------------------------------------------------------------
// CR0 / CR0ACK.

#[test]
fn cr0_is_acknowledged_at_once() {
    let mut rig = qemu();
    rig.w32(0x20, 0xd);
    assert_eq!(rig.r32(0x20), 0xd);
    assert_eq!(rig.r32(0x24), 0xd);
}

#[test]
fn cr0_reserved_and_absent_feature_bits_are_neither_stored_nor_acknowledged() {
    // qemu-virt: no PRI, ATS, VMW, DPT: only SMMUEN, EVENTQEN, CMDQEN exist.
    let mut rig = qemu();
    rig.w32(0x20, 0xffff_ffff);
    assert_eq!(rig.r32(0x20), 0xd);
    assert_eq!(rig.r32(0x24), 0xd);
}

#[test]
fn cr0_acknowledges_priqen_atschk_and_vmw_when_advertised() {
    let mut rig = Rig::new(rich());
    rig.w32(0x20, 0xffff_ffff);
    // SMMUEN, PRIQEN, EVENTQEN, CMDQEN, ATSCHK, VMW[8:6]
    assert_eq!(rig.r32(0x24), 0x1df);
}

#[test]
fn cr0_acknowledges_dpt_walk_en_when_dpt_is_advertised() {
    // IDR3.DPT is bit 15; CR0.DPT_WALK_EN is bit 10.
    let mut rig = Rig::new(SmmuConfig { idr3: 0x1414 | (1 << 15), ..SmmuConfig::qemu_virt() });
    rig.w32(0x20, 1 << 10);
    assert_eq!(rig.r32(0x24), 1 << 10);
}

// ---------------------------------------------------------------------------------------------
// CR1 / CR2.

#[test]
fn cr1_is_stored_while_disabled() {
    let mut rig = qemu();
    rig.w32(0x28, 0xffff_ffff);
    assert_eq!(rig.r32(0x28), 0xfff);
}

#[test]
fn cr1_table_fields_ignore_writes_while_smmuen_on_v3_2() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.w32(0x28, 0x555);
    rig.w32(0x20, 0x1);
    rig.w32(0x28, 0xaaa);
    // QUEUE_* [5:0] may change (no queue enabled), TABLE_* [11:6] may not.
    assert_eq!(rig.r32(0x28), 0x56a);
}

#[test]
fn cr1_queue_fields_ignore_writes_while_a_queue_is_enabled_on_v3_2() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.w32(0x28, 0x555);
    rig.w32(0x20, 0x4);
    rig.w32(0x28, 0xaaa);
    assert_eq!(rig.r32(0x28), 0xa95);
}

#[test]
fn cr1_guarded_fields_take_writes_on_v3_1() {
    let mut rig = qemu();
    rig.w32(0x20, 0xd);
    rig.w32(0x28, 0xaaa);
    assert_eq!(rig.r32(0x28), 0xaaa);
}

#[test]
fn cr2_keeps_only_implemented_fields() {
    // qemu-virt: no Hyp, BTM or ATSRECERR: only RECINVSID (bit 1).
    let mut rig = qemu();
    rig.w32(0x2c, 0xffff_ffff);
    assert_eq!(rig.r32(0x2c), 0x2);
    // With Hyp and BTM: E2H, RECINVSID, PTM.
    let mut rig = Rig::new(rich());
    rig.w32(0x2c, 0xffff_ffff);
    assert_eq!(rig.r32(0x2c), 0x7);
}

#[test]
fn cr2_is_read_only_while_smmuen_in_every_version() {
    for cfg in [SmmuConfig::qemu_virt(), SmmuConfig::full()] {
        let mut rig = Rig::new(cfg);
        rig.w32(0x20, 0x1);
        rig.w32(0x2c, 0x2);
        assert_eq!(rig.r32(0x2c), 0);
    }
}

// ---------------------------------------------------------------------------------------------
// GBPA / AGBPA.

#[test]
fn gbpa_write_without_update_is_ignored() {
    let mut rig = qemu();
    rig.w32(0x44, 0x0010_0000);
    assert_eq!(rig.r32(0x44), 0x1000);
}

#[test]
fn gbpa_write_with_update_takes_effect_and_update_reads_zero() {
    let mut rig = qemu();
    rig.w32(0x44, 0x8010_0000);
    assert_eq!(rig.r32(0x44), 0x0010_0000);
    assert!(rig.smmu.bank(SecSid::NonSecure).gbpa().abort());
}

#[test]
fn gbpa_keeps_only_architected_fields() {
    let mut rig = qemu();
    rig.w32(0x44, 0xffff_ffff);
    // ABORT 20, INSTCFG 19:18, PRIVCFG 17:16, SHCFG 13:12, ALLOCCFG 11:8, MTCFG 4, MemAttr 3:0
    assert_eq!(rig.r32(0x44), 0x001f_3f1f);
}

#[test]
fn agbpa_is_raz_wi() {
    let mut rig = qemu();
    rig.w32(0x48, 0xffff_ffff);
    assert_eq!(rig.r32(0x48), 0);
}

// ---------------------------------------------------------------------------------------------
// IRQ_CTRL, GERROR, GERRORN, IRQ_CFG.

#[test]
fn irq_ctrl_is_acknowledged_at_once_without_priq_bit_when_no_pri() {
    let mut rig = qemu();
    rig.w32(0x50, 0x7);
    assert_eq!(rig.r32(0x50), 0x5);
    assert_eq!(rig.r32(0x54), 0x5);
}

#[test]
fn irq_ctrl_keeps_priq_irqen_with_pri() {
    let mut rig = Rig::new(rich());
    rig.w32(0x50, 0xffff_ffff);
    assert_eq!(rig.r32(0x54), 0x7);
}

#[test]
fn gerror_is_read_only() {
    let mut rig = qemu();
    rig.w32(0x60, 0x1);
    assert_eq!(rig.r32(0x60), 0);
}

#[test]
fn gerrorn_keeps_only_defined_bits() {
    // qemu-virt: CMDQ_ERR 0, EVENTQ_ABT_ERR 2, SFM_ERR 8.
    let mut rig = qemu();
    rig.w32(0x64, 0xffff_ffff);
    assert_eq!(rig.r32(0x64), 0x105);
    // With MSI and PRI: PRIQ_ABT_ERR 3 and MSI_*_ABT_ERR 4-7 too.
    let mut rig = Rig::new(rich());
    rig.w32(0x64, 0xffff_ffff);
    assert_eq!(rig.r32(0x64), 0x1fd);
}

#[test]
fn gerror_irq_cfg_stores_architected_bits_with_msi() {
    let mut rig = Rig::new(rich());
    rig.w64(0x68, u64::MAX);
    rig.w32(0x70, 0xffff_ffff);
    rig.w32(0x74, 0xffff_ffff);
    assert_eq!(rig.r64(0x68), 0x00ff_ffff_ffff_fffc);
    assert_eq!(rig.r32(0x70), 0xffff_ffff);
    assert_eq!(rig.r32(0x74), 0x3f);
}

#[test]
fn eventq_irq_cfg_reads_back_what_was_written() {
    let mut rig = Rig::new(rich());
    rig.w32(0xb0, 0x0900_0040);
    rig.w32(0xb4, 0x1);
    rig.w32(0xb8, 0x2a);
    rig.w32(0xbc, 0x11);
    assert_eq!(rig.r64(0xb0), 0x1_0900_0040);
    assert_eq!(rig.r32(0xb8), 0x2a);
    assert_eq!(rig.r32(0xbc), 0x11);
}

#[test]
fn irq_cfg_ignores_writes_while_its_irq_is_enabled_on_v3_2() {
    let mut rig = Rig::new(rich());
    rig.w32(0x70, 0x1);
    rig.w32(0xb8, 0x1);
    rig.w32(0x50, 0x5);
    rig.w32(0x70, 0x2);
    rig.w32(0xb8, 0x2);
    assert_eq!(rig.r32(0x70), 0x1);
    assert_eq!(rig.r32(0xb8), 0x1);
}

#[test]
fn priq_irq_cfg_is_guarded_by_priq_irqen() {
    let mut rig = Rig::new(rich());
    rig.w32(0xd8, 0x1);
    rig.w32(0x50, 0x2);
    rig.w32(0xd8, 0x2);
    assert_eq!(rig.r32(0xd8), 0x1);
}

// ---------------------------------------------------------------------------------------------
// Stream table and queue registers.

#[test]
fn strtab_base_keeps_ra_and_addr() {
    let mut rig = qemu();
    rig.w64(0x80, u64::MAX);
    // RA 62, ADDR 55:6
    assert_eq!(rig.r64(0x80), 0x40ff_ffff_ffff_ffc0);
}

#[test]
fn strtab_base_halves_compose() {
    let mut rig = qemu();
    rig.w32(0x80, 0x4800_0000);
    rig.w32(0x84, 0x4000_0001);
    assert_eq!(rig.r64(0x80), 0x4000_0001_4800_0000);
    assert_eq!(rig.r32(0x84), 0x4000_0001);
    assert_eq!(rig.r32(0x80), 0x4800_0000);
}

#[test]
fn strtab_base_cfg_keeps_fmt_split_log2size() {
    let mut rig = qemu();
    rig.w32(0x88, 0xffff_ffff);
    assert_eq!(rig.r32(0x88), 0x0003_07ff);
}

#[test]
fn strtab_registers_ignore_writes_while_smmuen_on_v3_2() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.w64(0x80, 0x4800_0000);
    rig.w32(0x88, 0x10);
    rig.w32(0x20, 0x1);
    rig.w64(0x80, 0x4900_0000);
    rig.w32(0x84, 0x1);
    rig.w32(0x88, 0x8);
    assert_eq!(rig.r64(0x80), 0x4800_0000);
    assert_eq!(rig.r32(0x88), 0x10);
}

#[test]
fn strtab_registers_take_writes_while_smmuen_on_v3_1_as_qemu() {
    let mut rig = qemu();
    rig.w32(0x20, 0x1);
    rig.w64(0x80, 0x4900_0000);
    rig.w32(0x88, 0x8);
    assert_eq!(rig.r64(0x80), 0x4900_0000);
    assert_eq!(rig.r32(0x88), 0x8);
}

#[test]
fn queue_base_keeps_ra_addr_and_log2size_as_written() {
    let mut rig = qemu();
    rig.w64(0x90, u64::MAX);
    // RA 62, ADDR 55:5, LOG2SIZE 4:0 (31 > CMDQS, stored anyway)
    assert_eq!(rig.r64(0x90), 0x40ff_ffff_ffff_ffff);
}

#[test]
fn cmdq_base_and_cons_ignore_writes_while_cmdqen_on_v3_2() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.w64(0x90, 0x4801_0004);
    rig.w32(0x20, 0x8);
    rig.w64(0x90, 0x4802_0004);
    rig.w32(0x9c, 0x3);
    assert_eq!(rig.r64(0x90), 0x4801_0004);
    assert_eq!(rig.r32(0x9c), 0);
}

#[test]
fn cmdq_base_takes_writes_while_cmdqen_on_v3_1_as_qemu() {
    let mut rig = qemu();
    rig.w64(0x90, 0x4801_0004);
    rig.w32(0x20, 0x8);
    rig.w64(0x90, 0x4802_0004);
    assert_eq!(rig.r64(0x90), 0x4802_0004);
}

#[test]
fn cmdq_prod_keeps_wr_bits() {
    let mut rig = qemu();
    // LOG2SIZE 19 (IDR1.CMDQS): WR is index [18:0] plus the wrap bit 19.
    rig.w64(0x90, 0x4800_0013);
    rig.w32(0x98, 0xffff_ffff);
    assert_eq!(rig.r32(0x98), 0x000f_ffff);
}

#[test]
fn cmdq_cons_keeps_err_and_rd_up_to_the_wrap_bit() {
    let mut rig = qemu();
    rig.w64(0x90, 0x4801_0004);
    rig.w32(0x9c, 0xffff_ffff);
    // ERR 30:24, RD: index 3:0 and wrap bit 4 for LOG2SIZE 4
    assert_eq!(rig.r32(0x9c), 0x7f00_001f);
}

#[test]
fn eventq_base_and_prod_ignore_writes_while_eventqen_on_v3_2_but_cons_does_not() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.w64(0xa0, 0x4802_0004);
    rig.w32(0x20, 0x4);
    rig.w64(0xa0, 0x4803_0004);
    rig.w32(0x100a8, 0x2);
    rig.w32(0x100ac, 0x8000_0003);
    assert_eq!(rig.r64(0xa0), 0x4802_0004);
    assert_eq!(rig.r32(0x100a8), 0);
    assert_eq!(rig.r32(0x100ac), 0x8000_0003);
}

#[test]
fn prod_and_cons_bits_above_the_wrap_bit_read_as_zero_even_after_log2size_shrinks() {
    let mut rig = qemu();
    rig.w64(0xa0, 0x4802_0004);
    rig.w32(0x100a8, 0x100);
    // LOG2SIZE 4: bit 8 is above the wrap bit 4.
    assert_eq!(rig.r32(0x100a8), 0);
    rig.w32(0x100a8, 0x13);
    rig.w64(0xa0, 0x4802_0002);
    // LOG2SIZE 2: index [1:0] and wrap bit 2 of the old 0x13.
    assert_eq!(rig.r32(0x100a8), 0x3);
}

#[test]
fn eventq_prod_keeps_ovflg_and_wr() {
    let mut rig = qemu();
    // LOG2SIZE 19 (IDR1.EVENTQS): WR is index [18:0] plus the wrap bit 19.
    rig.w64(0xa0, 0x4800_0013);
    rig.w32(0x100a8, 0xffff_ffff);
    assert_eq!(rig.r32(0x100a8), 0x800f_ffff);
}

#[test]
fn priq_registers_are_stored_and_guarded_by_priqen() {
    let mut rig = Rig::new(rich());
    rig.w64(0xc0, 0x4803_0005);
    rig.w32(0x100c8, 0x1);
    rig.w32(0x20, 0x2);
    rig.w64(0xc0, 0x4804_0005);
    rig.w32(0x100c8, 0x2);
    rig.w32(0x100cc, 0x1);
    assert_eq!(rig.r64(0xc0), 0x4803_0005);
    assert_eq!(rig.r32(0x100c8), 0x1);
    assert_eq!(rig.r32(0x100cc), 0x1);
}

// ---------------------------------------------------------------------------------------------
// Secure page.

#[test]
fn secure_id_registers() {
    let mut rig = Rig::new(SmmuConfig::full());
    // S_IDR0: STALL_MODEL 0b01 [25:24], MSI 13 (as IDR0 of the full preset)
    assert_eq!(rig.rs(0x8000), 0x0100_2000);
    // S_IDR1: SECURE_IMPL 31, S_SIDSIZE 16
    assert_eq!(rig.rs(0x8004), 0x8000_0010);
    for offset in [0x8008, 0x800c, 0x8010] {
        assert_eq!(rig.rs(offset), 0, "{offset:#x}");
    }
}

#[test]
fn secure_page_reads_zero_and_ignores_writes_from_non_secure() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.w32(0x8020, 0x1);
    rig.w32(0x8044, 0x8010_0000);
    assert_eq!(rig.r32(0x8004), 0);
    assert_eq!(rig.smmu.bank(SecSid::Secure).cr0, 0);
    assert_eq!(rig.smmu.bank(SecSid::Secure).gbpa, 0x1000);
}

#[test]
fn secure_page_without_secure_impl_is_raz_wi_even_to_secure() {
    let mut rig = qemu();
    rig.ws(0x8020, 0x1);
    assert_eq!(rig.rs(0x8004), 0);
    assert_eq!(rig.smmu.bank(SecSid::Secure).cr0, 0);
}

#[test]
fn root_pas_reaches_the_secure_page() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.write(0x8020, 4, 0x1, Pas::Root).unwrap();
    assert_eq!(rig.read(0x8024, 4, Pas::Root), Ok(0x1));
}

#[test]
fn s_cr0_keeps_only_secure_fields() {
    // full: no VMW, STALL_MODEL 0b01 (no NSSTALLD): SMMUEN, EVENTQEN, CMDQEN, SIF.
    let mut rig = Rig::new(SmmuConfig::full());
    rig.ws(0x8020, 0xffff_ffff);
    assert_eq!(rig.rs(0x8024), 0x2d);
}

#[test]
fn secure_and_non_secure_banks_are_separate() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.ws(0x8020, 0x1);
    rig.w32(0x20, 0x4);
    assert_eq!(rig.r32(0x24), 0x4);
    assert_eq!(rig.rs(0x8024), 0x1);
}

#[test]
fn nsstalld_makes_non_secure_stall_model_terminate_only() {
    // STALL_MODEL 0b00 (stall and terminate): clear bits 25:24 of the full preset's IDR0.
    let cfg = SmmuConfig { idr0: 0x0c4c_321b, ..SmmuConfig::full() };
    let mut rig = Rig::new(cfg);
    assert_eq!(rig.r32(0x0) & 0x0300_0000, 0);
    rig.ws(0x8020, 1 << 9);
    assert_eq!(rig.rs(0x8024), 1 << 9);
    assert_eq!(rig.r32(0x0) & 0x0300_0000, 0x0100_0000);
    assert_eq!(rig.rs(0x8000) & 0x0300_0000, 0);
}

#[test]
fn s_init_inv_all_reads_back_zero() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.ws(0x803c, 0x1);
    assert_eq!(rig.rs(0x803c), 0);
}

#[test]
fn s_gbpa_keeps_nscfg() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.ws(0x8044, 0x8000_c000);
    assert_eq!(rig.rs(0x8044), 0xc000);
    // NSCFG does not exist in the Non-secure GBPA.
    rig.w32(0x44, 0x8000_c000);
    assert_eq!(rig.r32(0x44), 0);
}

#[test]
fn secure_eventq_prod_and_cons_live_in_page0() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.ws(0x80a8, 0x3);
    rig.ws(0x80ac, 0x2);
    assert_eq!(rig.smmu.bank(SecSid::Secure).eventq.prod, 0x3);
    assert_eq!(rig.smmu.bank(SecSid::Secure).eventq.cons, 0x2);
    assert_eq!(rig.smmu.bank(SecSid::NonSecure).eventq.prod, 0);
}

#[test]
fn secure_registers_mirror_the_non_secure_layout() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.write(0x8080, 8, 0x0e00_0000, Pas::Secure).unwrap();
    rig.ws(0x8088, 0x5);
    rig.write(0x8090, 8, 0x0e01_0004, Pas::Secure).unwrap();
    rig.ws(0x8050, 0x5);
    let b = rig.smmu.bank(SecSid::Secure);
    assert_eq!(b.strtab_base, 0x0e00_0000);
    assert_eq!(b.strtab_base_cfg, 0x5);
    assert_eq!(b.cmdq.base, 0x0e01_0004);
    assert_eq!(b.irq_ctrlack, 0x5);
}

#[test]
fn secure_gerror_irq_cfg_follows_s_idr0_msi() {
    let mut rig = Rig::new(SmmuConfig::full());
    rig.ws(0x8070, 0x77);
    assert_eq!(rig.rs(0x8070), 0x77);
}

#[test]
fn s_cr0_with_vmw_and_a_stall_model_keeps_every_secure_field() {
    // IDR0: VMW (17) set, STALL_MODEL 0b00.
    let cfg = SmmuConfig { idr0: 0x0c4c_321b | (1 << 17), ..SmmuConfig::full() };
    let mut rig = Rig::new(cfg);
    rig.ws(0x8020, 0xffff_ffff);
    // SMMUEN 0, EVENTQEN 2, CMDQEN 3, SIF 5, VMW 8:6, NSSTALLD 9 (bits 1, 4 RES0).
    assert_eq!(rig.rs(0x8024), 0x3ed);
}

//! One test per row of `smmu/RULES.md`: every configuration condition that terminates a
//! transaction (C_BAD_STREAMID, C_BAD_STE, C_BAD_SUBSTREAMID, F_STREAM_DISABLED, C_BAD_CD), and
//! the fields the brief suspected of being ILLEGAL that the spec makes IGNORED or capped.
//!
//! Each test is named after its row id (lower case, `-` as `_`). A test flips one field of a
//! valid configuration and checks the transaction's abort, the event record in the queue, and
//! the rule id the model names in its trace, so a test cannot pass because another rule fired.

use smmu::context::decode_cd;
use smmu::mem::{read_obj, write_obj};
use smmu::spec::cd::Cd;
use smmu::spec::event::{EventRecord, id};
use smmu::spec::regs::{
    Cr0, Cr2, Idr0, Idr1, Idr3, Idr5, QueueBase, SIdr1, StrtabBaseCfg, strtab_fmt,
};
use smmu::spec::ste::{Ste, config};
use smmu::stream::{CdTableFmt, S1Dss, S1Ste, StreamCfg, StreamWorld, TransCfg, decode_ste};
use smmu::walk::{Regime, S1Cfg};
use smmu::{
    Abort, AbortReason, Pas, PhysMem, SecSid, Smmu, SmmuConfig, SparseMem, TraceEvent, Txn,
    VecTrace, Window,
};

const STRTAB: u64 = 0x4e17_9000;
const S_STRTAB: u64 = 0x4f17_9000;
const EVENTQ: u64 = 0x4e17_0000;
const S_EVENTQ: u64 = 0x4f17_0000;
const L1_STRTAB: u64 = 0x4e20_0000;
const CD_ADDR: u64 = 0x4e17_8fc0;
const CD_TABLE: u64 = 0x4e30_0000;
const TTB: u64 = 0x4800_0000;
const SID: u32 = 8;
const IOVA: u64 = 0x0000_0080_8060_4567;

struct Rig {
    smmu: Smmu,
    mem: SparseMem,
    trace: VecTrace,
}

/// The NS interface (and the Secure one when implemented) enabled with SMMUEN, EVENTQEN and
/// RECINVSID, a linear 32-entry Stream table and a 16-entry event queue.
fn rig(cfg: SmmuConfig) -> Rig {
    let mut mem = SparseMem::new();
    mem.add_window(Window { name: "ram", base: 0x4000_0000, size: 512 << 20, pas_mask: 0xf })
        .unwrap();
    let secure = cfg.secure_impl;
    let mut smmu = Smmu::new(cfg);
    let mut cr0 = Cr0(0);
    cr0.set_smmuen(true);
    cr0.set_eventqen(true);
    let mut cr2 = Cr2(0);
    cr2.set_recinvsid(true);
    let banks: &[(SecSid, u64, u64)] = if secure {
        &[(SecSid::NonSecure, STRTAB, EVENTQ), (SecSid::Secure, S_STRTAB, S_EVENTQ)]
    } else {
        &[(SecSid::NonSecure, STRTAB, EVENTQ)]
    };
    for &(sec, st, eq) in banks {
        let b = smmu.bank_mut(sec);
        b.cr0 = cr0.0;
        b.cr0ack = cr0.0;
        b.cr2 = cr2.0;
        b.strtab_base = st;
        let mut c = StrtabBaseCfg(0);
        c.set_log2size(5);
        b.strtab_base_cfg = c.0;
        let mut q = QueueBase(0);
        q.set_addr(eq >> 5);
        q.set_log2size(4);
        b.eventq.base = q.0;
    }
    Rig { smmu, mem, trace: VecTrace::new() }
}

fn qemu() -> Rig {
    rig(SmmuConfig::qemu_virt())
}

/// qemu-virt with IDR0 edited.
fn idr0(f: impl FnOnce(&mut Idr0)) -> SmmuConfig {
    let mut c = SmmuConfig::qemu_virt();
    let mut i = Idr0(c.idr0);
    f(&mut i);
    c.idr0 = i.0;
    c
}

/// qemu-virt with IDR0 and IDR1.SSIDSIZE edited (substreams need SSIDSIZE != 0).
fn with_ssid(ssidsize: u32, f: impl FnOnce(&mut Idr0)) -> SmmuConfig {
    let mut c = idr0(f);
    let mut i = Idr1(c.idr1);
    i.set_ssidsize(ssidsize);
    c.idr1 = i.0;
    c
}

fn idr3(f: impl FnOnce(&mut Idr3)) -> SmmuConfig {
    let mut c = SmmuConfig::qemu_virt();
    let mut i = Idr3(c.idr3);
    f(&mut i);
    c.idr3 = i.0;
    c
}

fn idr5(f: impl FnOnce(&mut Idr5)) -> SmmuConfig {
    let mut c = SmmuConfig::qemu_virt();
    let mut i = Idr5(c.idr5);
    f(&mut i);
    c.idr5 = i.0;
    c
}

/// The Secure interface implemented, S_IDR1 edited.
fn secure(f: impl FnOnce(&mut SIdr1)) -> SmmuConfig {
    let mut c = SmmuConfig::qemu_virt();
    c.secure_impl = true;
    let mut i = SIdr1(c.s_idr1);
    f(&mut i);
    c.s_idr1 = i.0;
    c
}

impl Rig {
    fn write_ste(&mut self, sid: u32, ste: &Ste) {
        write_obj(&mut self.mem, STRTAB + 64 * u64::from(sid), Pas::NonSecure, ste).unwrap();
    }

    fn write_secure_ste(&mut self, sid: u32, ste: &Ste) {
        write_obj(&mut self.mem, S_STRTAB + 64 * u64::from(sid), Pas::Secure, ste).unwrap();
    }

    fn write_cd(&mut self, addr: u64, cd: &Cd) {
        write_obj(&mut self.mem, addr, Pas::NonSecure, cd).unwrap();
    }

    fn write_u64(&mut self, addr: u64, v: u64) {
        self.mem.write(addr, Pas::NonSecure, &v.to_le_bytes()).unwrap();
    }

    /// Switches the NS Stream table to 2-level, SPLIT 6, LOG2SIZE 16, L1 table at `L1_STRTAB`.
    fn two_level(&mut self) {
        let b = self.smmu.bank_mut(SecSid::NonSecure);
        b.strtab_base = L1_STRTAB;
        let mut c = StrtabBaseCfg(0);
        c.set_fmt(strtab_fmt::TWO_LEVEL);
        c.set_split(6);
        c.set_log2size(16);
        b.strtab_base_cfg = c.0;
    }

    fn run(&mut self, txn: &Txn) -> Result<smmu::Translation, Abort> {
        self.smmu.translate(txn, &mut self.mem, &mut self.trace)
    }

    fn events(&mut self, sec: SecSid) -> Vec<EventRecord> {
        let (q, pas) = match sec {
            SecSid::Secure => (S_EVENTQ, Pas::Secure),
            _ => (EVENTQ, Pas::NonSecure),
        };
        let prod = self.smmu.bank(sec).eventq.prod & 0xf;
        (0..u64::from(prod)).map(|i| read_obj(&mut self.mem, q + 32 * i, pas).unwrap()).collect()
    }

    fn notes(&self) -> Vec<String> {
        self.trace
            .events
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Note(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// Runs `txn` and checks that rule `row` fired: the transaction aborts with `event`, one
    /// record of that event with the transaction's StreamID is in the queue, and the trace names
    /// the row. Returns the record.
    fn expect(&mut self, txn: &Txn, row: &str, event: u8) -> EventRecord {
        let out = self.run(txn);
        assert_eq!(out, Err(Abort { reason: AbortReason::Fault(event), event: Some(event) }));
        assert_eq!(self.notes(), vec![format!("{}: {row}", id::name(event))]);
        let ev = self.events(txn.sec_sid);
        assert_eq!(ev.len(), 1, "{ev:?}");
        let f = ev[0].fields();
        assert_eq!(f.id, event);
        assert_eq!(f.sid, txn.sid);
        ev[0]
    }
}

fn read(sid: u32) -> Txn {
    Txn::ns(sid, IOVA, 4, true)
}

fn with_ssid_txn(ssid: u32) -> Txn {
    Txn { ssid: Some(ssid), ..read(SID) }
}

fn secure_read(sid: u32) -> Txn {
    Txn { sec_sid: SecSid::Secure, ns: false, ..read(sid) }
}

/// A valid stage-1-only STE pointing at one CD.
fn ste_s1() -> Ste {
    let mut ste = Ste::default();
    let mut b = ste.bits_mut();
    b.set_v(true);
    b.set_config(config::S1_TRANS);
    b.set_s1_context_ptr(CD_ADDR >> 6);
    ste
}

/// A valid stage-2-only STE: 44-bit IPA, 4 KiB granule, start level 0, S2PS 48.
fn ste_s2() -> Ste {
    let mut ste = Ste::default();
    let mut b = ste.bits_mut();
    b.set_v(true);
    b.set_config(config::S2_TRANS);
    b.set_s2t0sz(20);
    b.set_s2sl0(2);
    b.set_s2ps(5);
    b.set_s2aa64(true);
    b.set_s2r(true);
    b.set_s2ttb(TTB >> 4);
    ste
}

/// `ste_s1` with substreams: S1CDMax, S1Fmt and S1DSS as given, CD table at `CD_TABLE`.
fn ste_sub(cdmax: u64, fmt: u64, dss: u64) -> Ste {
    let mut ste = ste_s1();
    let mut b = ste.bits_mut();
    b.set_s1_context_ptr(CD_TABLE >> 6);
    b.set_s1cdmax(cdmax);
    b.set_s1fmt(fmt);
    b.set_s1dss(dss);
    ste
}

/// A valid CD: TTB0 only, 48-bit VA, 4 KiB granule, IPS 44, AA64, A, R.
fn cd() -> Cd {
    let mut cd = Cd::default();
    let mut b = cd.bits_mut();
    b.set_v(true);
    b.set_t0sz(16);
    b.set_epd1(true);
    b.set_ips(4);
    b.set_aa64(true);
    b.set_a(true);
    b.set_r(true);
    b.set_ttb0(TTB >> 4);
    cd
}

/// `cd()` with the TTB1 region enabled: T1SZ 16, TG1 4 KiB, TTB1 = `TTB`.
fn cd_ttb1() -> Cd {
    let mut c = cd();
    let mut b = c.bits_mut();
    b.set_epd1(false);
    b.set_t1sz(16);
    b.set_tg1(0b10);
    b.set_ttb1(TTB >> 4);
    c
}

/// Runs a stage-1 stream with CD `c` on `r` and checks that CD rule `row` fired.
fn expect_cd(mut r: Rig, ste: Ste, c: Cd, row: &str) {
    r.write_ste(SID, &ste);
    r.write_cd(CD_ADDR, &c);
    r.expect(&read(SID), row, id::C_BAD_CD);
}

fn expect_ste(mut r: Rig, ste: Ste, row: &str) {
    r.write_ste(SID, &ste);
    r.expect(&read(SID), row, id::C_BAD_STE);
}

// ---- C_BAD_STREAMID ------------------------------------------------------------------------

#[test]
fn sid_range_streamid_beyond_log2size() {
    let mut r = qemu();
    r.expect(&read(32), "SID-RANGE", id::C_BAD_STREAMID);
}

#[test]
fn sid_range_log2size_is_capped_at_sidsize() {
    let mut c = SmmuConfig::qemu_virt();
    let mut i = Idr1(c.idr1);
    i.set_sidsize(4);
    c.idr1 = i.0;
    let mut r = rig(c);
    r.write_ste(16, &ste_s1());
    r.expect(&read(16), "SID-RANGE", id::C_BAD_STREAMID);
}

#[test]
fn l1std_span0_invalid_l1_descriptor() {
    let mut r = qemu();
    r.two_level();
    r.expect(&read(SID), "L1STD-SPAN0", id::C_BAD_STREAMID);
}

#[test]
fn l1std_span_res_reserved_span_behaves_as_0() {
    let mut r = qemu();
    r.two_level();
    r.write_u64(L1_STRTAB, 0x4e21_0000 | 12);
    r.expect(&read(SID), "L1STD-SPAN-RES", id::C_BAD_STREAMID);
}

#[test]
fn l1std_span_split_span_beyond_split_plus_1() {
    let mut r = qemu();
    r.two_level();
    r.write_u64(L1_STRTAB, 0x4e21_0000 | 8);
    r.expect(&read(SID), "L1STD-SPAN-SPLIT", id::C_BAD_STREAMID);
}

#[test]
fn l1std_span_sid_streamid_beyond_l2_array() {
    let mut r = qemu();
    r.two_level();
    // Span 2: two STEs; StreamID 2 is past them.
    r.write_u64(L1_STRTAB, 0x4e21_0000 | 2);
    r.expect(&read(2), "L1STD-SPAN-SID", id::C_BAD_STREAMID);
}

// ---- C_BAD_STE ---------------------------------------------------------------------------

#[test]
fn ste_v_invalid_ste() {
    let mut r = qemu();
    let rec = r.expect(&read(SID), "STE-V", id::C_BAD_STE);
    assert_eq!(rec.to_words(), [0x0000_0008_0000_0004, 0, 0, 0]);
}

#[test]
fn ste_cfg_s1p_stage1_without_s1p() {
    expect_ste(rig(idr0(|i| i.set_s1p(false))), ste_s1(), "STE-CFG-S1P");
}

#[test]
fn ste_cfg_s2p_stage2_without_s2p() {
    expect_ste(rig(idr0(|i| i.set_s2p(false))), ste_s2(), "STE-CFG-S2P");
}

#[test]
fn ste_cfg_sel2_secure_stage2_without_sel2() {
    let mut r = rig(secure(|_| {}));
    r.write_secure_ste(SID, &ste_s2());
    r.expect(&secure_read(SID), "STE-CFG-SEL2", id::C_BAD_STE);
}

#[test]
fn ste_s2aa32_secure_secure_stage2_with_vmsav8_32() {
    let mut r = rig(secure(|i| i.set_sel2(true)));
    let mut ste = ste_s2();
    ste.bits_mut().set_s2aa64(false);
    r.write_secure_ste(SID, &ste);
    r.expect(&secure_read(SID), "STE-S2AA32-SECURE", id::C_BAD_STE);
}

#[test]
fn ste_eats_split_split_stage_ats_without_nesting() {
    let mut ste = ste_s1();
    ste.bits_mut().set_eats(0b10);
    expect_ste(rig(idr0(|i| i.set_ats(true))), ste, "STE-EATS-SPLIT");
}

#[test]
fn ste_eats_full_s2s_full_ats_with_stage2_stall() {
    let mut ste = ste_s2();
    ste.bits_mut().set_eats(0b01);
    ste.bits_mut().set_s2s(true);
    expect_ste(rig(idr0(|i| i.set_ats(true))), ste, "STE-EATS-FULL-S2S");
}

#[test]
fn ste_eats_dpt_strw_dpt_checks_outside_el1() {
    let mut c = idr0(|i| {
        i.set_ats(true);
        i.set_hyp(true);
    });
    let mut i3 = Idr3(c.idr3);
    i3.set_dpt(true);
    c.idr3 = i3.0;
    let mut ste = ste_s1();
    ste.bits_mut().set_eats(0b11);
    ste.bits_mut().set_strw(0b10);
    expect_ste(rig(c), ste, "STE-EATS-DPT-STRW");
}

#[test]
fn ste_strw_res_reserved_streamworld() {
    let mut ste = ste_s1();
    ste.bits_mut().set_strw(0b01);
    expect_ste(rig(idr0(|i| i.set_hyp(true))), ste, "STE-STRW-RES");
}

#[test]
fn ste_strw_s_res_secure_reserved_streamworld() {
    let mut r = rig(secure(|_| {}));
    let mut ste = ste_s1();
    ste.bits_mut().set_strw(0b11);
    r.write_secure_ste(SID, &ste);
    r.expect(&secure_read(SID), "STE-STRW-S-RES", id::C_BAD_STE);
}

#[test]
fn ste_strw_s_el3_el3_streamworld_with_rme() {
    let mut c = secure(|_| {});
    let mut i = Idr0(c.idr0);
    i.set_rme_impl(true);
    c.idr0 = i.0;
    let mut r = rig(c);
    let mut ste = ste_s1();
    ste.bits_mut().set_strw(0b01);
    r.write_secure_ste(SID, &ste);
    r.expect(&secure_read(SID), "STE-STRW-S-EL3", id::C_BAD_STE);
}

#[test]
fn ste_strw_s_sel2_secure_el2_without_sel2() {
    let mut r = rig(secure(|_| {}));
    let mut ste = ste_s1();
    ste.bits_mut().set_strw(0b10);
    r.write_secure_ste(SID, &ste);
    r.expect(&secure_read(SID), "STE-STRW-S-SEL2", id::C_BAD_STE);
}

#[test]
fn ste_s1stalld_without_configurable_stall_model() {
    let mut ste = ste_s1();
    ste.bits_mut().set_s1stalld(true);
    expect_ste(qemu(), ste, "STE-S1STALLD");
}

#[test]
fn ste_s1cdmax_beyond_ssidsize() {
    expect_ste(rig(with_ssid(4, |_| {})), ste_sub(5, 0, 0), "STE-S1CDMAX");
}

#[test]
fn ste_s1fmt_cd2l_two_level_cd_table_without_cd2l() {
    expect_ste(rig(with_ssid(4, |_| {})), ste_sub(2, 0b01, 0), "STE-S1FMT-CD2L");
}

#[test]
fn ste_s1ctxptr_context_pointer_beyond_oas() {
    let mut ste = ste_s1();
    ste.bits_mut().set_s1_context_ptr((1 << 44) >> 6);
    expect_ste(qemu(), ste, "STE-S1CTXPTR");
}

#[test]
fn ste_s2fwb_aa32_fwb_with_vmsav8_32_stage2() {
    let mut c = idr0(|i| i.set_ttf(0b11));
    let mut i3 = Idr3(c.idr3);
    i3.set_fwb(true);
    c.idr3 = i3.0;
    let mut ste = ste_s2();
    ste.bits_mut().set_s2aa64(false);
    ste.bits_mut().set_s2fwb(true);
    expect_ste(rig(c), ste, "STE-S2FWB-AA32");
}

#[test]
fn ste_s2s_nostall_stage2_stall_on_terminate_only_smmu() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2s(true);
    expect_ste(qemu(), ste, "STE-S2S-NOSTALL");
}

#[test]
fn ste_s2s_forced_stage2_terminate_on_stall_forced_smmu() {
    expect_ste(rig(idr0(|i| i.set_stall_model(0b10))), ste_s2(), "STE-S2S-FORCED");
}

#[test]
fn ste_s2aa32_vmsav8_32_stage2_without_ttf_aarch32() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2aa64(false);
    expect_ste(qemu(), ste, "STE-S2AA32");
}

#[test]
fn ste_s2aa64_vmsav8_64_stage2_without_ttf_aarch64() {
    expect_ste(rig(idr0(|i| i.set_ttf(0b01))), ste_s2(), "STE-S2AA64");
}

#[test]
fn ste_s2ha_stage2_access_flag_update_without_httu() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2ha(true);
    expect_ste(qemu(), ste, "STE-S2HA");
}

#[test]
fn ste_s2hd_stage2_dirty_update_with_af_only_httu() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2ha(true);
    ste.bits_mut().set_s2hd(true);
    expect_ste(rig(idr0(|i| i.set_httu(0b01))), ste, "STE-S2HD");
}

#[test]
fn ste_s2haft_table_af_update_without_s2ha() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2haft(true);
    expect_ste(rig(idr0(|i| i.set_httu(0b11))), ste, "STE-S2HAFT");
}

#[test]
fn ste_s2tg_reserved_granule() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2tg(0b11);
    expect_ste(qemu(), ste, "STE-S2TG");
}

#[test]
fn ste_s2tg_granule_not_in_idr5() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2tg(0b10);
    ste.bits_mut().set_s2sl0(1);
    expect_ste(rig(idr5(|i| i.set_gran16k(false))), ste, "STE-S2TG");
}

#[test]
fn ste_s2ttb_ps_table_base_beyond_effective_s2ps() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2ttb((1 << 44) >> 4);
    expect_ste(qemu(), ste, "STE-S2TTB-PS");
}

#[test]
fn ste_s2ttb_48_table_base_beyond_48_bits_with_4k() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2ps(6);
    ste.bits_mut().set_s2ttb((1 << 48) >> 4);
    expect_ste(rig(idr5(|i| i.set_oas(6))), ste, "STE-S2TTB-48");
}

#[test]
fn ste_s2t0sz_min_ipa_space_beyond_ias() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2t0sz(19);
    expect_ste(qemu(), ste, "STE-S2T0SZ-MIN");
}

#[test]
fn ste_s2t0sz_max_ipa_space_below_smallest() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2t0sz(40);
    expect_ste(qemu(), ste, "STE-S2T0SZ-MAX");
}

#[test]
fn ste_s2sl0_start_level_inconsistent_with_s2t0sz() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2sl0(0);
    expect_ste(qemu(), ste, "STE-S2SL0");
}

#[test]
fn ste_s2endi_le_big_endian_stage2_on_little_endian_smmu() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2endi(true);
    expect_ste(qemu(), ste, "STE-S2ENDI-LE");
}

#[test]
fn ste_s2endi_be_little_endian_stage2_on_big_endian_smmu() {
    expect_ste(rig(idr0(|i| i.set_ttendian(0b11))), ste_s2(), "STE-S2ENDI-BE");
}

#[test]
fn ste_s2vmid_16_bit_vmid_without_vmid16() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2vmid(0x100);
    expect_ste(rig(idr0(|i| i.set_vmid16(false))), ste, "STE-S2VMID");
}

#[test]
fn model_s2aa32_vmsav8_32_stage2_is_not_implemented() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2aa64(false);
    expect_ste(rig(idr0(|i| i.set_ttf(0b11))), ste, "MODEL-S2AA32");
}

#[test]
fn model_s2endi_big_endian_stage2_is_not_implemented() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2endi(true);
    expect_ste(rig(idr0(|i| i.set_ttendian(0b00))), ste, "MODEL-S2ENDI");
}

// ---- C_BAD_SUBSTREAMID -------------------------------------------------------------------

#[test]
fn ssid_s1off_substream_on_stage2_only_stream() {
    let mut r = qemu();
    r.write_ste(SID, &ste_s2());
    let rec = r.expect(&with_ssid_txn(1), "SSID-S1OFF", id::C_BAD_SUBSTREAMID);
    assert_eq!(rec.bits().substream_id(), 1);
}

#[test]
fn ssid_s1off_substream_on_bypass_stream() {
    let mut r = qemu();
    let mut ste = Ste::default();
    ste.bits_mut().set_v(true);
    ste.bits_mut().set_config(config::BYPASS);
    r.write_ste(SID, &ste);
    r.expect(&with_ssid_txn(1), "SSID-S1OFF", id::C_BAD_SUBSTREAMID);
}

#[test]
fn ssid_unsupported_substream_without_ssidsize() {
    let mut r = qemu();
    r.write_ste(SID, &ste_s1());
    r.expect(&with_ssid_txn(0), "SSID-UNSUPPORTED", id::C_BAD_SUBSTREAMID);
}

#[test]
fn ssid_cdmax0_substream_with_substreams_disabled() {
    let mut r = rig(with_ssid(4, |_| {}));
    r.write_ste(SID, &ste_s1());
    r.expect(&with_ssid_txn(1), "SSID-CDMAX0", id::C_BAD_SUBSTREAMID);
}

#[test]
fn ssid_range_substream_beyond_s1cdmax() {
    let mut r = rig(with_ssid(4, |_| {}));
    r.write_ste(SID, &ste_sub(2, 0, 0));
    let rec = r.expect(&with_ssid_txn(4), "SSID-RANGE", id::C_BAD_SUBSTREAMID);
    assert_eq!(rec.bits().substream_id(), 4);
    assert!(!rec.bits().ssv());
}

#[test]
fn l1cd_v_invalid_level1_cd() {
    let mut r = rig(with_ssid(8, |i| i.set_cd2l(true)));
    r.write_ste(SID, &ste_sub(8, 0b01, 0));
    // SubstreamID 0x45: L1CD index 1, left invalid.
    let rec = r.expect(&with_ssid_txn(0x45), "L1CD-V", id::C_BAD_SUBSTREAMID);
    assert_eq!(rec.bits().substream_id(), 0x45);
}

#[test]
fn l1cd_l2ptr_leaf_table_beyond_oas() {
    let mut r = rig(with_ssid(8, |i| i.set_cd2l(true)));
    r.write_ste(SID, &ste_sub(8, 0b01, 0));
    r.write_u64(CD_TABLE + 8, (1 << 44) | 1);
    r.expect(&with_ssid_txn(0x45), "L1CD-L2PTR", id::C_BAD_SUBSTREAMID);
}

// ---- F_STREAM_DISABLED -------------------------------------------------------------------

#[test]
fn dss_terminate_no_substream_with_s1dss_terminate() {
    let mut r = rig(with_ssid(4, |_| {}));
    r.write_ste(SID, &ste_sub(2, 0, 0b00));
    let rec = r.expect(&read(SID), "DSS-TERMINATE", id::F_STREAM_DISABLED);
    assert_eq!(rec.to_words(), [0x0000_0008_0000_0006, 0, 0, 0]);
}

#[test]
fn dss_terminate_reserved_s1dss_behaves_as_terminate() {
    let mut r = rig(with_ssid(4, |_| {}));
    r.write_ste(SID, &ste_sub(2, 0, 0b11));
    r.expect(&read(SID), "DSS-TERMINATE", id::F_STREAM_DISABLED);
}

#[test]
fn dss_ssid0_substream_0_reserved_by_s1dss() {
    let mut r = rig(with_ssid(4, |_| {}));
    r.write_ste(SID, &ste_sub(2, 0, 0b10));
    r.expect(&with_ssid_txn(0), "DSS-SSID0", id::F_STREAM_DISABLED);
}

// ---- C_BAD_CD ----------------------------------------------------------------------------

#[test]
fn cd_v_invalid_cd() {
    expect_cd(qemu(), ste_s1(), Cd::default(), "CD-V");
}

#[test]
fn cd_s1stalld_stall_on_stream_with_stalls_disabled() {
    let mut ste = ste_s1();
    ste.bits_mut().set_s1stalld(true);
    let mut c = cd();
    c.bits_mut().set_s(true);
    expect_cd(rig(idr0(|i| i.set_stall_model(0b00))), ste, c, "CD-S1STALLD");
}

#[test]
fn cd_a_raz_wi_termination_without_term_model() {
    let mut c = cd();
    c.bits_mut().set_a(false);
    expect_cd(qemu(), ste_s1(), c, "CD-A");
}

#[test]
fn cd_s_nostall_stall_on_terminate_only_smmu() {
    let mut c = cd();
    c.bits_mut().set_s(true);
    expect_cd(qemu(), ste_s1(), c, "CD-S-NOSTALL");
}

#[test]
fn cd_s_forced_terminate_on_stall_forced_smmu() {
    expect_cd(rig(idr0(|i| i.set_stall_model(0b10))), ste_s1(), cd(), "CD-S-FORCED");
}

#[test]
fn cd_endi_le_big_endian_tables_on_little_endian_smmu() {
    let mut c = cd();
    c.bits_mut().set_endi(true);
    expect_cd(qemu(), ste_s1(), c, "CD-ENDI-LE");
}

#[test]
fn cd_endi_be_little_endian_tables_on_big_endian_smmu() {
    expect_cd(rig(idr0(|i| i.set_ttendian(0b11))), ste_s1(), cd(), "CD-ENDI-BE");
}

#[test]
fn cd_aa32_vmsav8_32_without_ttf_aarch32() {
    let mut c = cd();
    c.bits_mut().set_aa64(false);
    expect_cd(qemu(), ste_s1(), c, "CD-AA32");
}

#[test]
fn cd_aa64_ttf_vmsav8_64_without_ttf_aarch64() {
    expect_cd(rig(idr0(|i| i.set_ttf(0b01))), ste_s1(), cd(), "CD-AA64-TTF");
}

/// The model rejects a VMSAv8-32 stage 2 at the STE (MODEL-S2AA32), so this row is checked on
/// the CD validator directly.
#[test]
fn cd_aa64_s2aa32_vmsav8_64_stage1_over_vmsav8_32_stage2() {
    let cfg = idr0(|i| i.set_ttf(0b11));
    let s1 = S1Ste {
        ctx_ptr: CD_ADDR,
        fmt: CdTableFmt::Linear,
        cdmax: 0,
        dss: S1Dss::Terminate,
        stalld: false,
    };
    let t = TransCfg {
        s1: Some(s1),
        s2: None,
        s2_aa32: true,
        world: StreamWorld::El1,
        vmid: 0,
        attrs: Default::default(),
        mev: false,
    };
    let out = decode_cd(&cfg, SecSid::NonSecure, &t, &s1, &cd());
    assert_eq!(out.map_err(|r| r.id()), Err("CD-AA64-S2AA32"));
}

#[test]
fn cd_ha_access_flag_update_without_httu() {
    let mut c = cd();
    c.bits_mut().set_ha(true);
    expect_cd(qemu(), ste_s1(), c, "CD-HA");
}

#[test]
fn cd_hd_dirty_update_with_af_only_httu() {
    let mut c = cd();
    c.bits_mut().set_ha(true);
    c.bits_mut().set_hd(true);
    expect_cd(rig(idr0(|i| i.set_httu(0b01))), ste_s1(), c, "CD-HD");
}

#[test]
fn cd_haft_table_af_update_without_ha() {
    let mut c = cd();
    c.bits_mut().set_haft(true);
    expect_cd(rig(idr0(|i| i.set_httu(0b11))), ste_s1(), c, "CD-HAFT");
}

#[test]
fn cd_asid_16_bit_asid_without_asid16() {
    let mut c = cd();
    c.bits_mut().set_asid(0x100);
    expect_cd(rig(idr0(|i| i.set_asid16(false))), ste_s1(), c, "CD-ASID");
}

#[test]
fn cd_t0sz_min_va_range_beyond_48_bits() {
    let mut c = cd();
    c.bits_mut().set_t0sz(15);
    expect_cd(qemu(), ste_s1(), c, "CD-T0SZ-MIN");
}

#[test]
fn cd_t0sz_max_va_range_below_smallest() {
    let mut c = cd();
    c.bits_mut().set_t0sz(40);
    expect_cd(qemu(), ste_s1(), c, "CD-T0SZ-MAX");
}

#[test]
fn cd_t1sz_min_va_range_beyond_48_bits() {
    let mut c = cd_ttb1();
    c.bits_mut().set_t1sz(15);
    expect_cd(qemu(), ste_s1(), c, "CD-T1SZ-MIN");
}

#[test]
fn cd_t1sz_max_va_range_below_smallest() {
    let mut c = cd_ttb1();
    c.bits_mut().set_t1sz(40);
    expect_cd(qemu(), ste_s1(), c, "CD-T1SZ-MAX");
}

#[test]
fn cd_tg0_reserved_granule() {
    let mut c = cd();
    c.bits_mut().set_tg0(0b11);
    expect_cd(qemu(), ste_s1(), c, "CD-TG0");
}

#[test]
fn cd_tg0_granule_not_in_idr5() {
    let mut c = cd();
    c.bits_mut().set_tg0(0b01);
    expect_cd(rig(idr5(|i| i.set_gran64k(false))), ste_s1(), c, "CD-TG0");
}

#[test]
fn cd_tg1_reserved_granule() {
    let mut c = cd_ttb1();
    c.bits_mut().set_tg1(0b00);
    expect_cd(qemu(), ste_s1(), c, "CD-TG1");
}

#[test]
fn cd_ttb0_ips_table_base_beyond_effective_ips() {
    let mut c = cd();
    c.bits_mut().set_ips(0);
    c.bits_mut().set_ttb0((1 << 32) >> 4);
    expect_cd(qemu(), ste_s1(), c, "CD-TTB0-IPS");
}

#[test]
fn cd_ttb0_48_table_base_beyond_48_bits_with_4k() {
    let mut c = cd();
    c.bits_mut().set_ips(6);
    c.bits_mut().set_ttb0((1 << 48) >> 4);
    expect_cd(rig(idr5(|i| i.set_oas(6))), ste_s1(), c, "CD-TTB0-48");
}

#[test]
fn cd_ttb1_ips_table_base_beyond_effective_ips() {
    let mut c = cd_ttb1();
    c.bits_mut().set_ips(0);
    c.bits_mut().set_ttb0(0x1000 >> 4);
    c.bits_mut().set_ttb1((1 << 32) >> 4);
    expect_cd(qemu(), ste_s1(), c, "CD-TTB1-IPS");
}

#[test]
fn cd_ttb1_48_table_base_beyond_48_bits_with_4k() {
    let mut c = cd_ttb1();
    c.bits_mut().set_ips(6);
    c.bits_mut().set_ttb1((1 << 48) >> 4);
    expect_cd(rig(idr5(|i| i.set_oas(6))), ste_s1(), c, "CD-TTB1-48");
}

#[test]
fn model_cd_aa32_vmsav8_32_stage1_is_not_implemented() {
    let mut c = cd();
    c.bits_mut().set_aa64(false);
    expect_cd(rig(idr0(|i| i.set_ttf(0b11))), ste_s1(), c, "MODEL-CD-AA32");
}

#[test]
fn model_cd_endi_big_endian_stage1_is_not_implemented() {
    let mut c = cd();
    c.bits_mut().set_endi(true);
    expect_cd(rig(idr0(|i| i.set_ttendian(0b00))), ste_s1(), c, "MODEL-CD-ENDI");
}

// ---- Silent aborts and other fetch-time behaviour ---------------------------------------

#[test]
fn sid_recinvsid_invalid_streamid_not_recorded_without_recinvsid() {
    let mut r = qemu();
    r.smmu.bank_mut(SecSid::NonSecure).cr2 = 0;
    let out = r.run(&read(32));
    assert_eq!(out, Err(Abort { reason: AbortReason::Fault(id::C_BAD_STREAMID), event: None }));
    assert!(r.events(SecSid::NonSecure).is_empty());
}

#[test]
fn cfg_abort_config_0b000_aborts_silently() {
    let mut r = qemu();
    let mut ste = ste_s1();
    ste.bits_mut().set_config(config::ABORT);
    r.write_ste(SID, &ste);
    assert_eq!(r.run(&read(SID)), Err(Abort { reason: AbortReason::ConfigAbort, event: None }));
    assert!(r.events(SecSid::NonSecure).is_empty());
}

#[test]
fn cfg_abort_reserved_config_0b010_aborts_silently() {
    let mut r = qemu();
    let mut ste = ste_s1();
    ste.bits_mut().set_config(0b010);
    r.write_ste(SID, &ste);
    assert_eq!(r.run(&read(SID)), Err(Abort { reason: AbortReason::ConfigAbort, event: None }));
}

#[test]
fn fetch_ste_linear_table_outside_memory_gives_f_ste_fetch() {
    let mut r = qemu();
    r.smmu.bank_mut(SecSid::NonSecure).strtab_base = 0x1000_0000;
    let out = r.run(&read(SID));
    assert_eq!(out.unwrap_err().event, Some(id::F_STE_FETCH));
    assert_eq!(r.events(SecSid::NonSecure)[0].to_words()[3], 0x1000_0000 + 8 * 64);
}

#[test]
fn fetch_ste_l1std_outside_memory_gives_f_ste_fetch_at_l1std() {
    let mut r = qemu();
    r.two_level();
    r.smmu.bank_mut(SecSid::NonSecure).strtab_base = 0x1000_0000;
    assert_eq!(r.run(&read(0x48)).unwrap_err().event, Some(id::F_STE_FETCH));
    assert_eq!(r.events(SecSid::NonSecure)[0].to_words()[3], 0x1000_0008);
}

#[test]
fn fetch_ste_beyond_oas_gives_f_ste_fetch() {
    let mut r = qemu();
    r.smmu.bank_mut(SecSid::NonSecure).strtab_base = 1 << 44;
    assert_eq!(r.run(&read(SID)).unwrap_err().event, Some(id::F_STE_FETCH));
}

#[test]
fn fetch_cd_outside_memory_gives_f_cd_fetch() {
    let mut r = qemu();
    let mut ste = ste_s1();
    ste.bits_mut().set_s1_context_ptr(0x1000_0000 >> 6);
    r.write_ste(SID, &ste);
    assert_eq!(r.run(&read(SID)).unwrap_err().event, Some(id::F_CD_FETCH));
    assert_eq!(r.events(SecSid::NonSecure)[0].to_words()[3], 0x1000_0000);
}

#[test]
fn fetch_l1cd_outside_memory_gives_f_cd_fetch_at_l1cd() {
    let mut r = rig(with_ssid(8, |i| i.set_cd2l(true)));
    let mut ste = ste_sub(8, 0b01, 0);
    ste.bits_mut().set_s1_context_ptr(0x1000_0000 >> 6);
    r.write_ste(SID, &ste);
    assert_eq!(r.run(&with_ssid_txn(0x45)).unwrap_err().event, Some(id::F_CD_FETCH));
    assert_eq!(r.events(SecSid::NonSecure)[0].to_words()[3], 0x1000_0008);
}

// ---- Fields the spec makes IGNORED or capped, not ILLEGAL --------------------------------

fn decode(cfg: &SmmuConfig, ste: &Ste) -> TransCfg {
    match decode_ste(cfg, SecSid::NonSecure, false, ste) {
        Ok(StreamCfg::Translate(t)) => t,
        other => panic!("expected a translating STE, got {other:?}"),
    }
}

#[test]
fn ign_eats_eats_is_ignored_without_ats() {
    let mut ste = ste_s1();
    ste.bits_mut().set_eats(0b10);
    decode(&SmmuConfig::qemu_virt(), &ste);
}

#[test]
fn ign_strw_strw_is_ignored_without_hyp() {
    let mut ste = ste_s1();
    ste.bits_mut().set_strw(0b11);
    assert_eq!(decode(&SmmuConfig::qemu_virt(), &ste).world, StreamWorld::El1);
}

#[test]
fn ign_strw_strw_is_ignored_with_stage2() {
    let mut ste = ste_s2();
    ste.bits_mut().set_strw(0b01);
    assert_eq!(decode(&idr0(|i| i.set_hyp(true)), &ste).world, StreamWorld::El1);
}

#[test]
fn ign_s1cdmax_s1cdmax_is_ignored_without_ssidsize() {
    let t = decode(&SmmuConfig::qemu_virt(), &ste_sub(5, 0b01, 0));
    assert_eq!(t.s1.unwrap().cdmax, 0);
    assert_eq!(t.s1.unwrap().fmt, CdTableFmt::Linear);
}

#[test]
fn ign_had_hadx_is_ignored_without_idr3_had() {
    let mut c = cd();
    c.bits_mut().set_had0(true);
    let decode_with = |cfg: &SmmuConfig| {
        let t = decode(cfg, &ste_s1());
        decode_cd(cfg, SecSid::NonSecure, &t, &t.s1.unwrap(), &c).unwrap().tables[0].unwrap().had
    };
    assert!(decode_with(&SmmuConfig::qemu_virt()));
    assert!(!decode_with(&idr3(|i| i.set_had(false))));
}

#[test]
fn ign_epd_disabled_region_fields_are_not_checked() {
    // EPD1 with T1SZ 0 and TG1 reserved: valid.
    let cfg = SmmuConfig::qemu_virt();
    let t = decode(&cfg, &ste_s1());
    let s1 = decode_cd(&cfg, SecSid::NonSecure, &t, &t.s1.unwrap(), &cd()).unwrap();
    assert!(s1.tables[1].is_none());
}

// ---- StreamWorld (§5.2 STRW, §3.3.3) and the CD fields of the EL2 StreamWorlds (§5.4) ----

/// qemu-virt with IDR0.Hyp (and IDR0 edited further by `f`).
fn hyp(f: impl FnOnce(&mut Idr0)) -> SmmuConfig {
    idr0(|i| {
        i.set_hyp(true);
        f(i)
    })
}

/// A stage-1 STE with STRW = `strw`, decoded with CR2.E2H = `e2h`.
fn decode_world(cfg: &SmmuConfig, strw: u64, e2h: bool) -> TransCfg {
    let mut ste = ste_s1();
    ste.bits_mut().set_strw(strw);
    match decode_ste(cfg, SecSid::NonSecure, e2h, &ste) {
        Ok(StreamCfg::Translate(t)) => t,
        other => panic!("expected a translating STE, got {other:?}"),
    }
}

/// `c` decoded through a stage-1 STE of STRW 0b10 (EL2 or, with `e2h`, EL2-E2H) or 0b00.
fn decode_cd_in(cfg: &SmmuConfig, el2: bool, e2h: bool, c: &Cd) -> Result<S1Cfg, &'static str> {
    let t = decode_world(cfg, if el2 { 0b10 } else { 0b00 }, e2h);
    decode_cd(cfg, SecSid::NonSecure, &t, &t.s1.unwrap(), c).map_err(|r| r.id())
}

#[test]
fn strw_el2_selects_ns_el2_or_ns_el2_e2h_by_cr2_e2h() {
    let cfg = hyp(|_| {});
    assert_eq!(decode_world(&cfg, 0b10, false).world, StreamWorld::El2);
    assert_eq!(decode_world(&cfg, 0b10, true).world, StreamWorld::El2E2h);
    assert_eq!(decode_world(&cfg, 0b00, true).world, StreamWorld::El1);
}

#[test]
fn strw_el2_streams_have_no_vmid_tag() {
    let mut ste = ste_s1();
    let mut b = ste.bits_mut();
    b.set_strw(0b10);
    b.set_s2vmid(0x1234);
    let t = match decode_ste(&hyp(|i| i.set_vmid16(false)), SecSid::NonSecure, false, &ste) {
        Ok(StreamCfg::Translate(t)) => t,
        other => panic!("{other:?}"),
    };
    // S2VMID is IGNORED outside NS-EL1 (`IgnoreSTES2VMID()`): no STE-S2VMID check either.
    assert_eq!(t.vmid, 0);
}

#[test]
fn ign_cd_el2_epdx_are_ignored() {
    let mut c = cd();
    c.bits_mut().set_epd0(true);
    let cfg = hyp(|_| {});
    assert!(decode_cd_in(&cfg, true, false, &c).unwrap().tables[0].is_some());
    assert!(decode_cd_in(&cfg, false, false, &c).unwrap().tables[0].is_none());
    assert!(decode_cd_in(&cfg, true, true, &c).unwrap().tables[0].is_none());
}

#[test]
fn ign_cd_el2_ttb1_fields_are_not_checked() {
    // TTB1 enabled with T1SZ 0, TG1 reserved and TBI1: RES0 fields for EL2.
    let mut c = cd();
    let mut b = c.bits_mut();
    b.set_epd1(false);
    b.set_t1sz(0);
    b.set_tg1(0b00);
    b.set_tbi1(true);
    let cfg = hyp(|_| {});
    let s1 = decode_cd_in(&cfg, true, false, &c).unwrap();
    assert!(s1.tables[1].is_none() && !s1.tbi[1]);
    assert_eq!(decode_cd_in(&cfg, true, true, &c).unwrap_err(), "CD-T1SZ-MIN");
    assert_eq!(decode_cd_in(&cfg, false, false, &c).unwrap_err(), "CD-T1SZ-MIN");
}

#[test]
fn ign_cd_el2_asid_is_ignored() {
    let mut c = cd();
    c.bits_mut().set_asid(0x1234);
    let cfg = hyp(|i| i.set_asid16(false));
    assert_eq!(decode_cd_in(&cfg, true, false, &c).unwrap().asid, 0);
    assert_eq!(decode_cd_in(&cfg, true, true, &c).unwrap_err(), "CD-ASID");
}

#[test]
fn strw_el2_selects_the_permission_model_of_its_regime() {
    let cfg = hyp(|_| {});
    let regime = |el2, e2h| decode_cd_in(&cfg, el2, e2h, &cd()).unwrap().regime;
    assert_eq!(regime(true, false), Regime::El2);
    assert_eq!(regime(true, true), Regime::El2E2h);
    assert_eq!(regime(false, true), Regime::El1);
}

#[test]
fn cap_ips_ips_beyond_oas_is_capped() {
    let cfg = SmmuConfig::qemu_virt();
    let mut c = cd();
    c.bits_mut().set_ips(6);
    let t = decode(&cfg, &ste_s1());
    let s1 = decode_cd(&cfg, SecSid::NonSecure, &t, &t.s1.unwrap(), &c).unwrap();
    assert_eq!(s1.oas_bits, 44);
}

#[test]
fn cap_s2ps_s2ps_beyond_oas_is_capped() {
    let mut ste = ste_s2();
    ste.bits_mut().set_s2ps(7);
    assert_eq!(decode(&SmmuConfig::qemu_virt(), &ste).s2.unwrap().ps_bits, 44);
}

//! Register offsets and register field layouts (IHI 0070 §6).

/// Offsets in page 0 of an interface (Non-secure; Secure adds [`S_OFFSET`]; Realm page 0 uses
/// the same offsets).
pub mod off {
    pub const IDR0: u64 = 0x000;
    pub const IDR1: u64 = 0x004;
    pub const IDR2: u64 = 0x008;
    pub const IDR3: u64 = 0x00c;
    pub const IDR4: u64 = 0x010;
    pub const IDR5: u64 = 0x014;
    pub const IIDR: u64 = 0x018;
    pub const AIDR: u64 = 0x01c;
    pub const CR0: u64 = 0x020;
    pub const CR0ACK: u64 = 0x024;
    pub const CR1: u64 = 0x028;
    pub const CR2: u64 = 0x02c;
    /// Secure page only (0x803c).
    pub const S_INIT: u64 = 0x03c;
    pub const STATUSR: u64 = 0x040;
    pub const GBPA: u64 = 0x044;
    pub const AGBPA: u64 = 0x048;
    pub const IRQ_CTRL: u64 = 0x050;
    pub const IRQ_CTRLACK: u64 = 0x054;
    pub const GERROR: u64 = 0x060;
    pub const GERRORN: u64 = 0x064;
    pub const GERROR_IRQ_CFG0: u64 = 0x068;
    pub const GERROR_IRQ_CFG1: u64 = 0x070;
    pub const GERROR_IRQ_CFG2: u64 = 0x074;
    pub const STRTAB_BASE: u64 = 0x080;
    pub const STRTAB_BASE_CFG: u64 = 0x088;
    pub const CMDQ_BASE: u64 = 0x090;
    pub const CMDQ_PROD: u64 = 0x098;
    pub const CMDQ_CONS: u64 = 0x09c;
    pub const EVENTQ_BASE: u64 = 0x0a0;
    /// In page 1 for Non-secure and Realm (page 0 alias optional); in page 0 for Secure.
    pub const EVENTQ_PROD: u64 = 0x0a8;
    pub const EVENTQ_CONS: u64 = 0x0ac;
    pub const EVENTQ_IRQ_CFG0: u64 = 0x0b0;
    pub const EVENTQ_IRQ_CFG1: u64 = 0x0b8;
    pub const EVENTQ_IRQ_CFG2: u64 = 0x0bc;
    pub const PRIQ_BASE: u64 = 0x0c0;
    /// In page 1.
    pub const PRIQ_PROD: u64 = 0x0c8;
    pub const PRIQ_CONS: u64 = 0x0cc;
    pub const PRIQ_IRQ_CFG0: u64 = 0x0d0;
    pub const PRIQ_IRQ_CFG1: u64 = 0x0d8;
    pub const PRIQ_IRQ_CFG2: u64 = 0x0dc;
    /// Start of the ID block (PIDR4..CIDR3), 0xfd0-0xfff.
    pub const ID_BLOCK: u64 = 0xfd0;
}

/// Offset of the Secure registers within page 0.
pub const S_OFFSET: u64 = 0x8000;
/// Size of one register page.
pub const PAGE_SIZE: u64 = 0x10000;

/// Root control page offsets (relative to the IMPLEMENTATION DEFINED Root page base).
pub mod root_off {
    pub const ROOT_IDR0: u64 = 0x00;
    pub const ROOT_IIDR: u64 = 0x08;
    pub const ROOT_CR0: u64 = 0x20;
    pub const ROOT_CR0ACK: u64 = 0x24;
    pub const ROOT_GPT_BASE: u64 = 0x28;
    pub const ROOT_GPT_BASE_CFG: u64 = 0x30;
    pub const ROOT_GPF_FAR: u64 = 0x38;
    pub const ROOT_GPT_CFG_FAR: u64 = 0x40;
    pub const ROOT_TLBI: u64 = 0x50;
    pub const ROOT_TLBI_CTRL: u64 = 0x58;
}

/// The peripheral/component ID block at 0xfd0-0xffc (QEMU's "MMU-600" values), word by word.
pub const ID_BLOCK_WORDS: [u32; 12] = [
    0x04, 0x00, 0x00, 0x00, // PIDR4..PIDR7
    0x84, 0xb4, 0xf0, 0x10, // PIDR0..PIDR3
    0x0d, 0xf0, 0x05, 0xb1, // CIDR0..CIDR3
];

bitfield::bitfield! {
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Idr0(pub u32);
    impl Debug;
    u32;
    pub s2p, set_s2p: 0;
    pub s1p, set_s1p: 1;
    pub ttf, set_ttf: 3, 2;
    pub cohacc, set_cohacc: 4;
    pub btm, set_btm: 5;
    pub httu, set_httu: 7, 6;
    pub dormhint, set_dormhint: 8;
    pub hyp, set_hyp: 9;
    pub ats, set_ats: 10;
    pub ns1ats, set_ns1ats: 11;
    pub asid16, set_asid16: 12;
    pub msi, set_msi: 13;
    pub sev, set_sev: 14;
    pub atos, set_atos: 15;
    pub pri, set_pri: 16;
    pub vmw, set_vmw: 17;
    pub vmid16, set_vmid16: 18;
    pub cd2l, set_cd2l: 19;
    pub vatos, set_vatos: 20;
    pub ttendian, set_ttendian: 22, 21;
    pub atsrecerr, set_atsrecerr: 23;
    pub stall_model, set_stall_model: 25, 24;
    pub term_model, set_term_model: 26;
    pub st_level, set_st_level: 28, 27;
    pub rme_impl, set_rme_impl: 30;
}

/// IDR0.TTF values.
pub mod ttf {
    pub const AARCH32: u32 = 0b01;
    pub const AARCH64: u32 = 0b10;
    pub const BOTH: u32 = 0b11;
}

/// IDR0.STALL_MODEL values.
pub mod stall_model {
    pub const STALL_AND_TERMINATE: u32 = 0b00;
    pub const TERMINATE_ONLY: u32 = 0b01;
    pub const STALL_FORCED: u32 = 0b10;
}

bitfield::bitfield! {
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Idr1(pub u32);
    impl Debug;
    u32;
    pub sidsize, set_sidsize: 5, 0;
    pub ssidsize, set_ssidsize: 10, 6;
    pub priqs, set_priqs: 15, 11;
    pub eventqs, set_eventqs: 20, 16;
    pub cmdqs, set_cmdqs: 25, 21;
    pub attr_perms_ovr, set_attr_perms_ovr: 26;
    pub attr_types_ovr, set_attr_types_ovr: 27;
    pub rel, set_rel: 28;
    pub queues_preset, set_queues_preset: 29;
    pub tables_preset, set_tables_preset: 30;
    pub ecmdq, set_ecmdq: 31;
}

bitfield::bitfield! {
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Idr3(pub u32);
    impl Debug;
    u32;
    pub had, set_had: 2;
    pub pbha, set_pbha: 3;
    pub xnx, set_xnx: 4;
    pub pps, set_pps: 5;
    pub mpam, set_mpam: 7;
    pub fwb, set_fwb: 8;
    pub stt, set_stt: 9;
    pub ril, set_ril: 10;
    pub bbml, set_bbml: 12, 11;
    pub e0pd, set_e0pd: 13;
    pub ptwnnc, set_ptwnnc: 14;
    pub dpt, set_dpt: 15;
    pub pasidtt, set_pasidtt: 16;
    pub epan, set_epan: 17;
    pub s1pi, set_s1pi: 18;
    pub s2pi, set_s2pi: 19;
    pub s2po, set_s2po: 20;
    pub the, set_the: 21;
    pub mteperm, set_mteperm: 22;
    pub aie, set_aie: 23;
}

bitfield::bitfield! {
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Idr5(pub u32);
    impl Debug;
    u32;
    pub oas, set_oas: 2, 0;
    pub gran4k, set_gran4k: 4;
    pub gran16k, set_gran16k: 5;
    pub gran64k, set_gran64k: 6;
    pub ds, set_ds: 7;
    pub d128, set_d128: 8;
    pub vax, set_vax: 11, 10;
    pub stall_max, set_stall_max: 31, 16;
}

/// Address size in bits for an OAS / IPS / PS encoding (0..=6), or `None` if reserved.
pub fn pa_bits(enc: u64) -> Option<u32> {
    Some(match enc {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        5 => 48,
        6 => 52,
        _ => return None,
    })
}

bitfield::bitfield! {
    /// SMMU_S_IDR1.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct SIdr1(pub u32);
    impl Debug;
    u32;
    pub s_sidsize, set_s_sidsize: 5, 0;
    pub sel2, set_sel2: 29;
    pub secure_impl, set_secure_impl: 31;
}

bitfield::bitfield! {
    /// SMMU_S_IDR3.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct SIdr3(pub u32);
    impl Debug;
    u32;
    pub sams, set_sams: 6;
}

bitfield::bitfield! {
    /// SMMU_R_IDR1.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RIdr1(pub u32);
    impl Debug;
    u32;
    pub rme_da_impl, set_rme_da_impl: 31;
}

bitfield::bitfield! {
    /// SMMU_R_IDR3.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RIdr3(pub u32);
    impl Debug;
    u32;
    pub dpt, set_dpt: 15;
    pub mec, set_mec: 16;
    pub xt, set_xt: 17;
}

bitfield::bitfield! {
    /// SMMU_S_INIT.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct SInit(pub u32);
    impl Debug;
    u32;
    /// Write 1 to invalidate every SMMU cache and TLB; reads 1 until done.
    pub inv_all, set_inv_all: 0;
}

bitfield::bitfield! {
    /// SMMU_ROOT_IDR0.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RootIdr0(pub u32);
    impl Debug;
    u32;
    pub root_impl, set_root_impl: 0;
    pub bgptm, set_bgptm: 1;
    pub rgptm, set_rgptm: 2;
    pub realm_impl, set_realm_impl: 3;
    pub ba_realm, set_ba_realm: 31, 22;
}

bitfield::bitfield! {
    /// CR0 (and S_CR0 / R_CR0; S_CR0 has SIF and NSSTALLD).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Cr0(pub u32);
    impl Debug;
    u32;
    pub smmuen, set_smmuen: 0;
    pub priqen, set_priqen: 1;
    pub eventqen, set_eventqen: 2;
    pub cmdqen, set_cmdqen: 3;
    pub atschk, set_atschk: 4;
    pub sif, set_sif: 5;
    pub vmw, set_vmw: 8, 6;
    pub nsstalld, set_nsstalld: 9;
    pub dpt_walk_en, set_dpt_walk_en: 10;
}

/// Writable CR0 bits of the Non-secure interface: SMMUEN, PRIQEN, EVENTQEN, CMDQEN, ATSCHK, VMW.
pub const CR0_NS_MASK: u32 = 0x1df;
/// Writable S_CR0 bits: SMMUEN, EVENTQEN, CMDQEN, SIF, VMW, NSSTALLD.
pub const CR0_S_MASK: u32 = 0x3ed;
/// Writable R_CR0 bits: SMMUEN, PRIQEN, EVENTQEN, CMDQEN, ATSCHK (RES1), VMW, DPT_WALK_EN.
pub const CR0_R_MASK: u32 = 0x5df;
/// S_CR0.SIF: a Secure stream's Non-secure instruction fetch is a Permission fault.
pub const S_CR0_SIF: u32 = 1 << 5;
/// S_CR0.NSSTALLD: the Non-secure interface may not use the Stall model.
pub const S_CR0_NSSTALLD: u32 = 1 << 9;

bitfield::bitfield! {
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Cr1(pub u32);
    impl Debug;
    u32;
    pub queue_ic, set_queue_ic: 1, 0;
    pub queue_oc, set_queue_oc: 3, 2;
    pub queue_sh, set_queue_sh: 5, 4;
    pub table_ic, set_table_ic: 7, 6;
    pub table_oc, set_table_oc: 9, 8;
    pub table_sh, set_table_sh: 11, 10;
}

bitfield::bitfield! {
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Cr2(pub u32);
    impl Debug;
    u32;
    pub e2h, set_e2h: 0;
    pub recinvsid, set_recinvsid: 1;
    pub ptm, set_ptm: 2;
    pub rec_cfg_ats, set_rec_cfg_ats: 3;
}

bitfield::bitfield! {
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Gbpa(pub u32);
    impl Debug;
    u32;
    pub memattr, set_memattr: 3, 0;
    pub mtcfg, set_mtcfg: 4;
    pub alloccfg, set_alloccfg: 11, 8;
    pub shcfg, set_shcfg: 13, 12;
    /// S_GBPA only.
    pub nscfg, set_nscfg: 15, 14;
    pub privcfg, set_privcfg: 17, 16;
    pub instcfg, set_instcfg: 19, 18;
    pub abort, set_abort: 20;
    pub update, set_update: 31;
}

/// GBPA reset value (SHCFG = 0b01, use incoming).
pub const GBPA_RESET: u32 = 0x1000;

bitfield::bitfield! {
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct IrqCtrl(pub u32);
    impl Debug;
    u32;
    pub gerror_irqen, set_gerror_irqen: 0;
    pub priq_irqen, set_priq_irqen: 1;
    pub eventq_irqen, set_eventq_irqen: 2;
}

/// GERROR / GERRORN bits.
pub mod gerror {
    pub const CMDQ_ERR: u32 = 1 << 0;
    pub const EVENTQ_ABT_ERR: u32 = 1 << 2;
    pub const PRIQ_ABT_ERR: u32 = 1 << 3;
    pub const MSI_CMDQ_ABT_ERR: u32 = 1 << 4;
    pub const MSI_EVENTQ_ABT_ERR: u32 = 1 << 5;
    pub const MSI_PRIQ_ABT_ERR: u32 = 1 << 6;
    pub const MSI_GERROR_ABT_ERR: u32 = 1 << 7;
    pub const SFM_ERR: u32 = 1 << 8;
    pub const CMDQP_ERR: u32 = 1 << 9;
    pub const DPT_ERR: u32 = 1 << 10;
}

bitfield::bitfield! {
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct StrtabBaseCfg(pub u32);
    impl Debug;
    u32;
    pub log2size, set_log2size: 5, 0;
    pub split, set_split: 10, 6;
    pub fmt, set_fmt: 17, 16;
}

/// STRTAB_BASE_CFG.FMT values.
pub mod strtab_fmt {
    pub const LINEAR: u32 = 0b00;
    pub const TWO_LEVEL: u32 = 0b01;
}

bitfield::bitfield! {
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct StrtabBase(pub u64);
    impl Debug;
    u64;
    /// ADDR, address bits [55:6].
    pub addr, set_addr: 55, 6;
    pub ra, set_ra: 62;
}

bitfield::bitfield! {
    /// CMDQ_BASE / EVENTQ_BASE / PRIQ_BASE.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct QueueBase(pub u64);
    impl Debug;
    u64;
    pub log2size, set_log2size: 4, 0;
    /// ADDR, address bits [55:5].
    pub addr, set_addr: 55, 5;
    /// RA (CMDQ) or WA (EVENTQ, PRIQ).
    pub ra_wa, set_ra_wa: 62;
}

/// Writable bits of a queue base register: LOG2SIZE, ADDR[55:5], RA/WA.
pub const QUEUE_BASE_MASK: u64 = super::genmask(55, 0) | (1 << 62);
/// Writable bits of STRTAB_BASE: ADDR[55:6], RA.
pub const STRTAB_BASE_MASK: u64 = super::genmask(55, 6) | (1 << 62);

/// Byte size of a PRI queue entry.
pub const PRIQ_ENTRY_SIZE: u64 = 16;

/// CMDQ_CONS.ERR field, bits [30:24].
pub const CMDQ_CONS_ERR_SHIFT: u32 = 24;
pub const CMDQ_CONS_ERR_MASK: u32 = 0x7f << CMDQ_CONS_ERR_SHIFT;
/// Overflow flag of EVENTQ_PROD (OVFLG) / EVENTQ_CONS (OVACKFLG) / PRIQ.
pub const Q_OVERFLOW_FLAG: u32 = 1 << 31;

/// Index and wrap bit of a PROD/CONS value for a queue of `2^log2size` entries.
pub fn queue_index_mask(log2size: u32) -> u32 {
    // index [log2size-1:0] plus the wrap bit [log2size]
    ((1u64 << (log2size + 1)) - 1) as u32
}

bitfield::bitfield! {
    /// IRQ_CFG2 (MSI attributes).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct IrqCfg2(pub u32);
    impl Debug;
    u32;
    pub memattr, set_memattr: 3, 0;
    pub sh, set_sh: 5, 4;
}

/// IRQ_CFG0 address mask, bits [55:2].
pub const IRQ_CFG0_ADDR_MASK: u64 = super::genmask(55, 2);

bitfield::bitfield! {
    /// SMMU_ROOT_CR0 (and ROOT_CR0ACK).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RootCr0(pub u32);
    impl Debug;
    u32;
    /// SMMU- and client-originated accesses may become observable.
    pub accessen, set_accessen: 0;
    /// Granule protection checks on every access except GPT fetches.
    pub gpcen, set_gpcen: 1;
}

/// Writable ROOT_CR0 bits: ACCESSEN, GPCEN.
pub const ROOT_CR0_MASK: u32 = 0x3;

bitfield::bitfield! {
    /// SMMU_ROOT_GPT_BASE.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RootGptBase(pub u64);
    impl Debug;
    u64;
    /// ADDR, address bits [51:12] of the level 0 GPT (Root PA space).
    pub addr, set_addr: 51, 12;
}

/// Writable bits of ROOT_GPT_BASE: ADDR[51:12].
pub const ROOT_GPT_BASE_MASK: u64 = super::genmask(51, 12);

bitfield::bitfield! {
    /// SMMU_ROOT_GPT_BASE_CFG: GPCCR_EL3 without GPC (bit 16 is RES0).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RootGptBaseCfg(pub u64);
    impl Debug;
    u64;
    /// PPS: protected physical address size (encoded like IDR5.OAS, see [`pa_bits`]).
    pub pps, set_pps: 2, 0;
    pub irgn, set_irgn: 9, 8;
    pub orgn, set_orgn: 11, 10;
    pub sh, set_sh: 13, 12;
    /// PGS: 0b00 4 KiB, 0b01 64 KiB, 0b10 16 KiB (see `gpt::pgs_shift`).
    pub pgs, set_pgs: 15, 14;
    pub gpcp, set_gpcp: 17;
    /// L0GPTSZ (read-only): 0 30 bits, 4 34 bits, 6 36 bits, 9 39 bits (see
    /// `gpt::l0gptsz_bits`).
    pub l0gptsz, set_l0gptsz: 23, 20;
}

/// Software-writable bits of ROOT_GPT_BASE_CFG: PPS, IRGN, ORGN, SH, PGS, GPCP (L0GPTSZ is RO).
pub const ROOT_GPT_BASE_CFG_MASK: u64 = super::genmask(2, 0) | super::genmask(15, 8) | (1 << 17);

bitfield::bitfield! {
    /// SMMU_ROOT_GPF_FAR and SMMU_ROOT_GPT_CFG_FAR (CFG_ERR only in the latter).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RootFar(pub u64);
    impl Debug;
    u64;
    /// FAULT: a fault is latched; software writes 0 to clear the whole register.
    pub fault, set_fault: 0;
    /// REASON (`far_reason`).
    pub reason, set_reason: 3, 1;
    /// FAULTCODE (`far_faultcode`), 0 for REASON = TRANSACTION.
    pub faultcode, set_faultcode: 11, 4;
    /// FADDR, address bits [55:12] of the access that failed.
    pub faddr, set_faddr: 55, 12;
    /// CFG_ERR (`gpt_cfg_err`), ROOT_GPT_CFG_FAR only.
    pub cfg_err, set_cfg_err: 59, 56;
    /// FPAS: PA space of the access (`far_fpas`).
    pub fpas, set_fpas: 63, 62;
}

/// ROOT_GPF_FAR / ROOT_GPT_CFG_FAR REASON values.
pub mod far_reason {
    pub const TRANSLATION: u64 = 0b001;
    pub const GERROR: u64 = 0b010;
    pub const TRANSACTION: u64 = 0b011;
}

/// ROOT_GPF_FAR / ROOT_GPT_CFG_FAR FAULTCODE values.
pub mod far_faultcode {
    /// REASON = TRANSLATION: the event numbers of the fetch that faulted.
    pub const GPF_STE_FETCH: u64 = 0x03;
    pub const GPF_CD_FETCH: u64 = 0x09;
    pub const GPF_WALK_EABT: u64 = 0x0b;
    pub const GPF_VMS_FETCH: u64 = 0x25;
    /// REASON = GERROR.
    pub const CMDQ_GPF: u64 = 0x00;
    pub const EVENTQ_GPF: u64 = 0x02;
    pub const PRIQ_GPF: u64 = 0x03;
    pub const MSI_CMDQ_GPF: u64 = 0x04;
    pub const MSI_EVENTQ_GPF: u64 = 0x05;
    pub const MSI_PRIQ_GPF: u64 = 0x06;
    pub const MSI_GERROR_GPF: u64 = 0x07;
    pub const OTHER_GPF: u64 = 0x10;
}

/// ROOT_GPF_FAR / ROOT_GPT_CFG_FAR FPAS values (ARMSS numbering, as `Pas`).
pub mod far_fpas {
    pub const SECURE: u64 = 0b00;
    pub const NON_SECURE: u64 = 0b01;
    pub const ROOT: u64 = 0b10;
    pub const REALM: u64 = 0b11;
}

/// ROOT_GPT_CFG_FAR CFG_ERR values.
pub mod gpt_cfg_err {
    /// Invalid configuration of the GPT configuration registers.
    pub const INVALID_CFG: u64 = 0x0;
    /// ROOT_GPT_BASE.ADDR exceeds PPS.
    pub const BASE_ADDR_SIZE: u64 = 0x1;
    /// External abort on a GPT entry fetch.
    pub const EABT: u64 = 0x2;
    /// Invalid GPT entry.
    pub const INVALID_ENTRY: u64 = 0x3;
    /// A next-level address in a GPT entry exceeds PPS.
    pub const ENTRY_ADDR_SIZE: u64 = 0x4;
}

bitfield::bitfield! {
    /// SMMU_ROOT_TLBI (TLBI by PA, present with ROOT_IDR0.RGPTM).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RootTlbi(pub u64);
    impl Debug;
    u64;
    /// ALL: invalidate all GPT information.
    pub all, set_all: 0;
    /// L: last level of the GPT walk only.
    pub l, set_l: 1;
    /// SIZE: 0 4 KiB, 1 16 KiB, 2 64 KiB, 3 2 MiB, 4 32 MiB, 5 512 MiB, 6 1 GiB, 7 16 GiB,
    /// 8 64 GiB, 9 512 GiB (see [`root_tlbi_size_bytes`]).
    pub size, set_size: 7, 4;
    /// Address bits [51:12].
    pub address, set_address: 51, 12;
}

/// Byte size of a ROOT_TLBI.SIZE (and CMD_DPTI_PA Size) encoding, or `None` if reserved.
pub fn root_tlbi_size_bytes(size: u64) -> Option<u64> {
    Some(match size {
        0 => 1 << 12,
        1 => 1 << 14,
        2 => 1 << 16,
        3 => 1 << 21,
        4 => 1 << 25,
        5 => 1 << 29,
        6 => 1 << 30,
        7 => 1 << 34,
        8 => 1 << 36,
        9 => 1 << 39,
        _ => return None,
    })
}

bitfield::bitfield! {
    /// SMMU_ROOT_TLBI_CTRL.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct RootTlbiCtrl(pub u32);
    impl Debug;
    u32;
    /// RUN: software writes 1 to start the ROOT_TLBI operation; reads 1 until it completes.
    pub run, set_run: 0;
}

bitfield::bitfield! {
    /// SMMU_AIDR (and SMMU_R_AIDR).
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct Aidr(pub u32);
    impl Debug;
    u32;
    pub arch_minor_rev, set_arch_minor_rev: 3, 0;
    pub arch_major_rev, set_arch_major_rev: 7, 4;
}

bitfield::bitfield! {
    /// SMMU_S_IDR0.
    #[derive(Clone, Copy, PartialEq, Eq, Default)]
    pub struct SIdr0(pub u32);
    impl Debug;
    u32;
    pub msi, set_msi: 13;
    pub stall_model, set_stall_model: 25, 24;
    pub ecmdq, set_ecmdq: 31;
}

/// Architected bits of SMMU_GBPA without Update: MemAttr, MTCFG, ALLOCCFG, SHCFG, PRIVCFG,
/// INSTCFG, ABORT.
pub const GBPA_MASK: u32 = 0x001f_3f1f;
/// Architected bits of SMMU_S_GBPA without Update: GBPA's plus NSCFG \[15:14\].
pub const S_GBPA_MASK: u32 = GBPA_MASK | 0xc000;
/// Architected bits of STRTAB_BASE_CFG: LOG2SIZE \[5:0\], SPLIT \[10:6\], FMT \[17:16\].
pub const STRTAB_BASE_CFG_MASK: u32 = 0x0003_07ff;
/// The index-and-wrap field of every PROD/CONS register: WR / RD, bits \[19:0\].
pub const Q_IDX_MASK: u32 = 0x000f_ffff;
/// Architected bits of IRQ_CFG2: MemAttr \[3:0\], SH \[5:4\].
pub const IRQ_CFG2_MASK: u32 = 0x3f;
/// Largest LOG2SIZE any queue can have (IDR1.CMDQS/EVENTQS/PRIQS are at most 19).
pub const QUEUE_LOG2SIZE_MAX: u32 = 19;

impl QueueBase {
    /// Where the queue really is and how big it is: LOG2SIZE capped at `max_log2size` (the
    /// IDR1 queue size field), and ADDR aligned down to the larger of the queue size in bytes
    /// and 32 bytes, as the SMMU does ("ignoring the least-significant bits of ADDR").
    /// Returns `(base address, log2size)`.
    pub fn effective(&self, entry_bytes: u64, max_log2size: u32) -> (u64, u32) {
        let log2size = (self.log2size() as u32).min(max_log2size).min(QUEUE_LOG2SIZE_MAX);
        let bytes = (entry_bytes << log2size).max(32);
        ((self.addr() << 5) & !(bytes - 1), log2size)
    }
}

/// IDR0.TTENDIAN values.
pub mod ttendian {
    pub const MIXED: u32 = 0b00;
    pub const LITTLE: u32 = 0b10;
    pub const BIG: u32 = 0b11;
}

/// IDR0.HTTU values.
pub mod httu {
    pub const NONE: u32 = 0b00;
    pub const AF: u32 = 0b01;
    pub const AF_DIRTY: u32 = 0b10;
    /// Access flag, dirty state and Access flag in table descriptors (HAFT).
    pub const AF_DIRTY_HAFT: u32 = 0b11;
}

/// Architected STRTAB_BASE_CFG.SPLIT values (others behave as 6).
pub const STRTAB_SPLIT_VALID: [u32; 3] = [6, 8, 10];
/// The SPLIT value reserved encodings behave as.
pub const STRTAB_SPLIT_DEFAULT: u32 = 6;

/// SMMU_R_GERROR_IRQ_CFG0.NS / SMMU_R_EVENTQ_IRQ_CFG0.NS (bit 63): the Realm interface's MSI
/// targets the Non-secure PAS instead of the Realm PAS.
pub const R_IRQ_CFG0_NS: u64 = 1 << 63;

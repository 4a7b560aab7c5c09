//! Golden wire-format tests for `smmu::spec`.
//!
//! Every expected value here is assembled independently of the accessors under test: raw
//! words are built by hand from Linux `arm-smmu-v3.h` / `io-pgtable-arm.c` constants
//! (`FIELD_PREP(MASK, v)` computed by hand), TF-A / TF-RMM / Hafnium constants, QEMU's
//! observed output, or the IHI 0070 / DDI 0487 field tables, as cited next to each literal.
//! Decoding tests feed those words to our accessors; encoding tests compare our encoders
//! with the literal words or bytes.

use smmu::spec::cd::{Cd, tg1};
use smmu::spec::cmd::{self, Cmd, TlbiRange, op, tlbi_tg};
use smmu::spec::desc::{Desc, s2xn};
use smmu::spec::event::{self, EventFields, EventRecord, class, id};
use smmu::spec::gpt::{self, GptL0Desc, GptL1Desc, gpi};
use smmu::spec::regs::{self, *};
use smmu::spec::ste::{self, Ste};
use smmu::spec::table::{L1Cd, L1Std};

mod stream_table_entry {
    use super::*;

    /// A stage-1 STE as Linux builds it:
    /// dword0 = STRTAB_STE_0_V | FIELD_PREP(STRTAB_STE_0_CFG, 5) (0xa)
    ///        | FIELD_PREP(STRTAB_STE_0_S1FMT, 2) (0x20) | (0x4e178000 & S1CTXPTR_MASK)
    ///        | FIELD_PREP(STRTAB_STE_0_S1CDMAX, 10) (0x5000_0000_0000_0000)
    /// dword1 = FIELD_PREP(S1DSS, SSID0=2) | FIELD_PREP(S1CIR, WBRA=1) (0x4)
    ///        | FIELD_PREP(S1COR, WBRA=1) (0x10) | FIELD_PREP(S1CSH, ISH=3) (0xc0)
    ///        | STRTAB_STE_1_MEV (1<<19) | S2FWB (1<<25) | S1STALLD (1<<27)
    ///        | FIELD_PREP(EATS, TRANS=1) (1<<28) | FIELD_PREP(STRW, EL2=2) (2<<30)
    ///        | FIELD_PREP(SHCFG, INCOMING=1) (1<<44)
    const S1_WORDS: [u64; 8] = [0x5000_0000_4e17_802b, 0x0000_1000_9a08_00d6, 0, 0, 0, 0, 0, 0];

    #[test]
    fn linux_stage1_ste_decodes_to_its_fields() {
        let ste = Ste::from_words(S1_WORDS);
        let b = ste.bits();
        assert!(b.v());
        assert_eq!(b.config(), ste::config::S1_TRANS);
        assert_eq!(b.s1fmt(), ste::s1fmt::TWO_LEVEL_64K);
        assert_eq!(ste::addr_55_6(b.s1_context_ptr()), 0x4e17_8000);
        assert_eq!(b.s1cdmax(), 10);
        assert_eq!(b.s1dss(), ste::s1dss::SSID0);
        assert_eq!(b.s1cir(), 1);
        assert_eq!(b.s1cor(), 1);
        assert_eq!(b.s1csh(), 3);
        assert!(b.mev());
        assert!(b.s2fwb());
        assert!(b.s1stalld());
        assert_eq!(b.eats(), ste::eats::FULL);
        assert_eq!(b.strw(), ste::strw::EL2);
        assert_eq!(b.shcfg(), ste::shcfg::INCOMING);
        assert!(!b.dre() && !b.dcp() && !b.ppar() && !b.s1pie() && !b.s1mpam());
    }

    #[test]
    fn stage1_ste_encodes_to_linux_words() {
        let mut ste = Ste::default();
        let mut b = ste.bits_mut();
        b.set_v(true);
        b.set_config(ste::config::S1_TRANS);
        b.set_s1fmt(ste::s1fmt::TWO_LEVEL_64K);
        b.set_s1_context_ptr(0x4e17_8000 >> 6);
        b.set_s1cdmax(10);
        b.set_s1dss(ste::s1dss::SSID0);
        b.set_s1cir(1);
        b.set_s1cor(1);
        b.set_s1csh(3);
        b.set_mev(true);
        b.set_s2fwb(true);
        b.set_s1stalld(true);
        b.set_eats(ste::eats::FULL);
        b.set_strw(ste::strw::EL2);
        b.set_shcfg(ste::shcfg::INCOMING);
        assert_eq!(ste.to_words(), S1_WORDS);
    }

    /// A stage-2 STE as Linux builds it:
    /// dword2 = FIELD_PREP(S2VMID, 0x1234) | FIELD_PREP(STRTAB_STE_2_VTCR, vtcr) with
    ///   vtcr = S2T0SZ 25 | S2SL0 1 << 6 | S2IR0 1 << 8 | S2OR0 1 << 10 | S2SH0 3 << 12
    ///        | S2TG 2 << 14 | S2PS 5 << 16 = 0x5b559
    ///   | S2AA64 (1<<51) | S2ENDI (1<<52) | S2PTW (1<<54) | S2S (1<<57) | S2R (1<<58)
    /// dword3 = 0xf_dead_b000 & STRTAB_STE_3_S2TTB_MASK (GENMASK(51, 4))
    const S2_WORDS: [u64; 8] = [0xd, 0, 0x065d_b559_0000_1234, 0xf_dead_b000, 0, 0, 0, 0];

    #[test]
    fn linux_stage2_ste_decodes_to_its_fields() {
        let ste = Ste::from_words(S2_WORDS);
        let b = ste.bits();
        assert_eq!(b.config(), ste::config::S2_TRANS);
        assert_eq!(b.s2vmid(), 0x1234);
        assert_eq!(b.s2t0sz(), 25);
        assert_eq!(b.s2sl0(), 1);
        assert_eq!(b.s2ir0(), 1);
        assert_eq!(b.s2or0(), 1);
        assert_eq!(b.s2sh0(), 3);
        assert_eq!(b.s2tg(), ste::s2tg::G16K);
        assert_eq!(b.s2ps(), 5);
        assert!(b.s2aa64() && b.s2endi() && b.s2ptw() && b.s2s() && b.s2r());
        assert!(!b.s2affd() && !b.s2hd() && !b.s2ha());
        assert_eq!(ste::addr_55_4(b.s2ttb()), 0xf_dead_b000);
    }

    #[test]
    fn stage2_ste_encodes_to_linux_words() {
        let mut ste = Ste::default();
        let mut b = ste.bits_mut();
        b.set_v(true);
        b.set_config(ste::config::S2_TRANS);
        b.set_s2vmid(0x1234);
        b.set_s2t0sz(25);
        b.set_s2sl0(1);
        b.set_s2ir0(1);
        b.set_s2or0(1);
        b.set_s2sh0(3);
        b.set_s2tg(ste::s2tg::G16K);
        b.set_s2ps(5);
        b.set_s2aa64(true);
        b.set_s2endi(true);
        b.set_s2ptw(true);
        b.set_s2s(true);
        b.set_s2r(true);
        b.set_s2ttb(0xf_dead_b000 >> 4);
        assert_eq!(ste.to_words(), S2_WORDS);
    }

    /// S2TTB is STE[247:196] = address [55:4] (VMSAv9-128): the top nibble [55:52] lands in
    /// dword 3 bits [55:52].
    #[test]
    fn s2ttb_covers_address_bits_55_to_4() {
        let ste = Ste::from_words([0, 0, 0, 0x00f0_0000_0000_0010, 0, 0, 0, 0]);
        assert_eq!(ste::addr_55_4(ste.bits().s2ttb()), 0x00f0_0000_0000_0010);
        let ste = Ste::from_words([0, 0, 0, 0x0100_0000_0000_0000, 0, 0, 0, 0]);
        assert_eq!(ste.bits().s2ttb(), 0, "bit 248 is outside S2TTB");
    }

    /// Secure and Realm fields. dword3: S2NSW bit 192 and S2NSA bit 193 (Hafnium's STE table),
    /// S2SL0_2 (RMM `STE3_S2SL0_2_SHIFT 2`), S2DS (RMM `STE3_S2DS_SHIFT 3`), S2TTB 0x4e4d0000.
    /// dword4: PARTID [287:272] = 0x55, S_S2T0SZ [293:288] = 24, S_S2SL0 [295:294] = 2,
    /// S_S2TG [303:302] = 1 (Hafnium), MECID (RMM `STE4_MECID_SHIFT 48`) = 0xbeef.
    /// dword6: S2SW bit 384, S2SA bit 385 (Hafnium), S_S2SL0_2 bit 386, S_S2TTB [439:388]
    /// = 0x8765_4320, S_S2SKL [446:445] = 2 (IHI 0070 §5.2).
    #[test]
    fn secure_and_realm_ste_fields_decode() {
        let ste = Ste::from_words([
            0,
            0,
            0,
            0x4e4d_000f,
            0xbeef_4098_0055_0000,
            0,
            0x4000_0000_8765_4327,
            0,
        ]);
        let b = ste.bits();
        assert!(b.s2nsw() && b.s2nsa() && b.s2sl0_2() && b.s2ds());
        assert_eq!(ste::addr_55_4(b.s2ttb()), 0x4e4d_0000);
        assert_eq!(b.partid(), 0x55);
        assert_eq!(b.s_s2t0sz(), 24);
        assert_eq!(b.s_s2sl0(), 2);
        assert_eq!(b.s_s2tg(), ste::s2tg::G64K);
        assert_eq!(b.mecid(), 0xbeef);
        assert!(b.s2sw() && b.s2sa() && b.s_s2sl0_2());
        assert_eq!(ste::addr_55_4(b.s_s2ttb()), 0x8765_4320);
        assert_eq!(b.s_s2skl(), 2);
    }

    /// Dword 5 (bits [383:320]): PMG [327:320], MPAM_NS 328, AssuredOnly 329, TL0 330, TL1 331,
    /// VMSPtr [375:332] = address [55:12] (IHI 0070 §5.2).
    #[test]
    fn dword5_fields_decode() {
        let ste = Ste::from_words([0, 0, 0, 0, 0, 0x0012_3456_7890_0fa5, 0, 0]);
        let b = ste.bits();
        assert_eq!(b.pmg(), 0xa5);
        assert!(b.mpam_ns() && b.assured_only() && b.tl0() && b.tl1());
        assert_eq!(b.vmsptr() << 12, 0x0012_3456_7890_0000);
    }

    /// Dword 1 attribute overrides: MemAttr [99:96] 0xf, MTCFG 100, ALLOCCFG [104:101] 0b1110,
    /// SHCFG [109:108] 3, NSCFG [111:110] 3, PRIVCFG [113:112] 2, INSTCFG [115:114] 3,
    /// IMPDEF [127:116] 0xabc; SW_RESERVED [87:84] 9, S1PIE 88, S1MPAM 90, DRE 76, CONT [80:77]
    /// 5, DCP 81, PPAR 82, S2HWU59..62 [75:72] 0b1010.
    #[test]
    fn dword1_override_fields_decode() {
        let d1: u64 =
            0xf | 1 << 4 | 0b1110 << 5 | 3 << 12 | 3 << 14 | 2 << 16 | 3 << 18 | 0xabc << 20;
        let lo: u64 =
            0b1010 << 8 | 1 << 12 | 5 << 13 | 1 << 17 | 1 << 18 | 9 << 20 | 1 << 24 | 1 << 26;
        let ste = Ste::from_words([0, (d1 << 32) | lo, 0, 0, 0, 0, 0, 0]);
        let b = ste.bits();
        assert_eq!(b.memattr(), 0xf);
        assert!(b.mtcfg());
        assert_eq!(b.alloccfg(), 0b1110);
        assert_eq!(b.shcfg(), ste::shcfg::ISH);
        assert_eq!(b.nscfg(), ste::nscfg::NON_SECURE);
        assert_eq!(b.privcfg(), ste::privcfg::UNPRIV_OR_DATA);
        assert_eq!(b.instcfg(), ste::privcfg::PRIV_OR_INST);
        assert_eq!(b.impdef(), 0xabc);
        assert!(!b.s2hwu59() && b.s2hwu60() && !b.s2hwu61() && b.s2hwu62());
        assert!(b.dre() && b.dcp() && b.ppar() && b.s1pie() && b.s1mpam());
        assert_eq!(b.cont(), 5);
        assert_eq!(b.sw_reserved(), 9);
    }

    /// Dword 2 v3.4 bits: S2AFFD 181, S2HD 183, S2HA 184, S2HAFT 187, S2PIE 188, S2POE 189,
    /// DPT_VMATCH [191:190] (IHI 0070 §5.2; dword2 bits 53, 55, 56, 59, 60, 61, 63:62).
    #[test]
    fn dword2_v34_bits_decode() {
        let d2 = 1u64 << 53 | 1 << 55 | 1 << 56 | 1 << 59 | 1 << 60 | 1 << 61 | 2 << 62;
        let ste = Ste::from_words([0, 0, d2, 0, 0, 0, 0, 0]);
        let b = ste.bits();
        assert!(b.s2affd() && b.s2hd() && b.s2ha() && b.s2haft() && b.s2pie() && b.s2poe());
        assert_eq!(b.dpt_vmatch(), 2);
        assert!(!b.s2s() && !b.s2r());
    }

    /// S2POI<p> is STE[4p+451:4p+448]: dword 7, nibble p (IHI 0070 §5.2).
    #[test]
    fn s2poi_is_dword7() {
        let ste = Ste::from_words([0, 0, 0, 0, 0, 0, 0, 0xfedc_ba98_7654_3210]);
        let poi = ste.bits().s2poi();
        assert_eq!(poi & 0xf, 0x0);
        assert_eq!((poi >> 60) & 0xf, 0xf);
        assert_eq!(poi, 0xfedc_ba98_7654_3210);
    }
}

mod context_descriptor {
    use super::*;

    /// A CD as Linux builds it:
    /// dword0 = FIELD_PREP(CTXDESC_CD_0_TCR_T0SZ, 16) | TG0 2 << 6 | IRGN0 1 << 8
    ///        | ORGN0 1 << 10 | SH0 3 << 12 | TCR_EPD1 (1<<30) | CTXDESC_CD_0_V (1<<31)
    ///        | FIELD_PREP(TCR_IPS, 5) | TCR_TBI0 (1<<38) | AA64 (1<<41) | TCR_HD (1<<42)
    ///        | TCR_HA (1<<43) | R (1<<45) | A (1<<46) | ASET (1<<47)
    ///        | FIELD_PREP(CTXDESC_CD_0_ASID, 0xa5a5)
    /// dword1 = 0x12345000 & CTXDESC_CD_1_TTB0_MASK (GENMASK(51, 4)); dword3 = MAIR.
    const WORDS: [u64; 8] = [0xa5a5_ee45_c000_3590, 0x1234_5000, 0, 0x0044_ff04, 0, 0, 0, 0];

    #[test]
    fn linux_cd_decodes_to_its_fields() {
        let cd = Cd::from_words(WORDS);
        let b = cd.bits();
        assert_eq!(b.t0sz(), 16);
        assert_eq!(b.tg0(), smmu::spec::cd::tg0::G16K);
        assert_eq!((b.ir0(), b.or0(), b.sh0()), (1, 1, 3));
        assert!(!b.epd0() && b.epd1() && b.v());
        assert_eq!(b.ips(), 5);
        assert!(b.tbi0() && !b.tbi1() && b.aa64() && b.hd() && b.ha());
        assert!(!b.s() && b.r() && b.a() && b.aset());
        assert_eq!(b.asid(), 0xa5a5);
        assert_eq!(b.ttb0() << 4, 0x1234_5000);
        assert_eq!(b.mair0(), 0x0044_ff04);
        assert_eq!(b.mair1(), 0);
    }

    #[test]
    fn cd_encodes_to_linux_words() {
        let mut cd = Cd::default();
        let mut b = cd.bits_mut();
        b.set_t0sz(16);
        b.set_tg0(smmu::spec::cd::tg0::G16K);
        b.set_ir0(1);
        b.set_or0(1);
        b.set_sh0(3);
        b.set_epd1(true);
        b.set_v(true);
        b.set_ips(5);
        b.set_tbi0(true);
        b.set_aa64(true);
        b.set_hd(true);
        b.set_ha(true);
        b.set_r(true);
        b.set_a(true);
        b.set_aset(true);
        b.set_asid(0xa5a5);
        b.set_ttb0(0x1234_5000 >> 4);
        b.set_mair0(0x0044_ff04);
        assert_eq!(cd.to_words(), WORDS);
    }

    /// TTB1 half: T1SZ [21:16], TG1 [23:22] (TG1's own encoding), IR1/OR1/SH1, EPD1, and the
    /// dword 1-2 fields: NSCFG0 64, HAD0 65, E0PD0 66, HAFT 67, PnCH 122, EPAN 123, HWU0xx
    /// [127:124], NSCFG1 128, HAD1 129, E0PD1 130, AIE 131, TTB1 [183:132], DS 186, PIE 187,
    /// HWU1xx [191:188] (IHI 0070 §5.4).
    #[test]
    fn ttb1_and_extension_fields_decode() {
        let d0 = 20u64 << 16 | 0b10 << 22 | 1 << 24 | 2 << 26 | 2 << 28 | 1 << 14 | 1 << 15;
        let d1 = 0xfu64 | 0x0000_0008_0000_0000 | 1 << 58 | 1 << 59 | 0b1001 << 60;
        let d2 = 0xfu64 | (0x0004_4000_0000 & 0x000f_ffff_ffff_fff0) | 1 << 58 | 1 << 59 | 6 << 60;
        let cd = Cd::from_words([d0, d1, d2, 0, 0, 0, 0, 0]);
        let b = cd.bits();
        assert_eq!(b.t1sz(), 20);
        assert_eq!(b.tg1(), tg1::G4K);
        assert_eq!((b.ir1(), b.or1(), b.sh1()), (1, 2, 2));
        assert!(b.epd0() && b.endi());
        assert!(b.nscfg0() && b.had0() && b.e0pd0() && b.haft());
        assert_eq!(b.ttb0() << 4, 0x0000_0008_0000_0000);
        assert!(b.pnch() && b.epan());
        assert_eq!(b.hwu0(), 0b1001);
        assert!(b.nscfg1() && b.had1() && b.e0pd1() && b.aie());
        assert_eq!(b.ttb1() << 4, 0x0004_4000_0000);
        assert!(b.ds() && b.pie());
        assert_eq!(b.hwu1(), 6);
        assert_eq!(b.skl1(), 1);
    }

    /// MAIR0/MAIR1 [255:192], AMAIR [319:256], PARTID [367:352], PMG [375:368],
    /// PIIU [431:384] and PIIP [495:448] (IHI 0070 §5.4).
    #[test]
    fn attribute_mpam_and_indirection_fields_decode() {
        let cd = Cd::from_words([
            0,
            0,
            0,
            0x1111_2222_3333_4444,
            0x5555_6666_7777_8888,
            0x00a5_1234_0000_0000,
            0x0000_7654_3210_fedc,
            0x0000_0123_4567_89ab,
        ]);
        let b = cd.bits();
        assert_eq!(b.mair0(), 0x3333_4444);
        assert_eq!(b.mair1(), 0x1111_2222);
        assert_eq!(b.amair0(), 0x7777_8888);
        assert_eq!(b.amair1(), 0x5555_6666);
        assert_eq!(b.partid(), 0x1234);
        assert_eq!(b.pmg(), 0xa5);
        assert_eq!(b.piiu(), 0x7654_3210_fedc);
        assert_eq!(b.piip(), 0x0123_4567_89ab);
    }
}

mod level1_descriptors {
    use super::*;

    /// Linux: FIELD_PREP(STRTAB_L1_DESC_SPAN, 9) | (0x48001000 & STRTAB_L1_DESC_L2PTR_MASK).
    #[test]
    fn l1std_decodes_and_encodes() {
        let d = L1Std::from_words([0x4800_1009]);
        assert_eq!(d.bits().span(), 9);
        assert_eq!(d.bits().l2ptr() << 6, 0x4800_1000);
        let mut e = L1Std::default();
        e.bits_mut().set_span(9);
        e.bits_mut().set_l2ptr(0x4800_1000 >> 6);
        assert_eq!(e.to_bytes(), [0x09, 0x10, 0x00, 0x48, 0, 0, 0, 0]);
    }

    /// Linux: CTXDESC_L1_DESC_V | (0x48020000 & CTXDESC_L1_DESC_L2PTR_MASK).
    #[test]
    fn l1cd_decodes_and_encodes() {
        let d = L1Cd::from_words([0x4802_0001]);
        assert!(d.bits().v());
        assert_eq!(d.bits().l2ptr() << 12, 0x4802_0000);
        let mut e = L1Cd::default();
        e.bits_mut().set_v(true);
        e.bits_mut().set_l2ptr(0x4802_0000 >> 12);
        assert_eq!(e.to_words(), [0x4802_0001]);
    }

    /// L2Ptr is [55:6] for L1STD and [55:12] for L1CD (IHI 0070 §5.1, §5.3).
    #[test]
    fn l2ptrs_reach_address_bit_55() {
        assert_eq!(
            L1Std::from_words([0x00c0_0000_0000_0000]).bits().l2ptr() << 6,
            0x00c0_0000_0000_0000
        );
        assert_eq!(
            L1Cd::from_words([0x00c0_0000_0000_0000]).bits().l2ptr() << 12,
            0x00c0_0000_0000_0000
        );
    }
}

mod translation_descriptors {
    use super::*;

    /// Stage-1 page as io-pgtable-arm builds it: ARM_LPAE_PTE_TYPE_PAGE (3)
    /// | 1 << ARM_LPAE_PTE_ATTRINDX_SHIFT (2) | ARM_LPAE_PTE_NS (1<<5) | AP_UNPRIV (1<<6)
    /// | AP_RDONLY (2<<6) | SH_IS (3<<8) | AF (1<<10) | nG (1<<11) | 0x8765_4000
    /// | DBM (1<<51) | contiguous (1<<52) | XN (3<<53) = 0x0078_0000_8765_4fe7.
    #[test]
    fn linux_stage1_page_decodes() {
        let d = Desc(0x0078_0000_8765_4fe7);
        assert!(d.valid() && d.table_or_page());
        assert_eq!(d.attr_indx(), 1);
        assert!(d.ns());
        assert_eq!(d.ap(), smmu::spec::desc::ap::EL0 | smmu::spec::desc::ap::RO);
        assert_eq!(d.sh(), 3);
        assert!(d.af() && d.ng() && d.dbm() && d.contiguous() && d.pxn() && d.uxn());
        assert_eq!(d.address(12), 0x8765_4000);
        assert_eq!(d.address_52(12, false), 0x8765_4000);
        assert!(!d.gp());
    }

    /// Table descriptor: ARM_LPAE_PTE_TYPE_TABLE (3) | ARM_LPAE_PTE_NSTABLE (1<<63)
    /// | APTable 3 << 61 | XNTable (UXNTable) 1 << 60 | PXNTable 1 << 59 (DDI 0487 D8.3.1)
    /// | next-level table 0x4000_2000.
    #[test]
    fn table_descriptor_decodes() {
        let d = Desc(0xf800_0000_4000_2003);
        assert!(d.valid() && d.table_or_page());
        assert!(d.ns_table() && d.uxn_table() && d.pxn_table());
        assert_eq!(
            d.ap_table(),
            smmu::spec::desc::ap_table::NO_EL0 | smmu::spec::desc::ap_table::NO_WRITE
        );
        assert_eq!(d.address(12), 0x4000_2000);
    }

    /// Stage-2 block: ARM_LPAE_PTE_TYPE_BLOCK (1) | ARM_LPAE_PTE_MEMATTR_OIWB (0xf<<2)
    /// | ARM_LPAE_PTE_HAP_READ (1<<6) | HAP_WRITE (2<<6) | SH_IS (3<<8) | AF (1<<10)
    /// | XN[1:0] = 0b10 (bit 54) | 0x1_2340_0000 (a 2 MiB block at level 2).
    #[test]
    fn linux_stage2_block_decodes() {
        let d = Desc(0x0040_0001_2340_07fd);
        assert!(d.valid() && !d.table_or_page());
        assert_eq!(d.s2_memattr(), 0xf);
        assert_eq!(d.s2ap(), smmu::spec::desc::s2ap::READ | smmu::spec::desc::s2ap::WRITE);
        assert_eq!(d.sh(), 3);
        assert!(d.af());
        assert_eq!(d.s2xn(), s2xn::XN);
        assert_eq!(d.address(12) & !0x1f_ffff, 0x1_2340_0000);
    }

    /// 52-bit OA with the 64 KiB granule: bits [15:12] hold OA[51:48] (io-pgtable-arm
    /// `iopte_to_paddr` rotates them up by 36).
    #[test]
    fn lpa_64k_address_takes_bits_51_48_from_15_12() {
        let d = Desc(0x0000_1234_5678_0000 | 0xa << 12 | 3);
        assert_eq!(d.oa_51_48(), 0xa);
        assert_eq!(d.address_52(16, false), 0x000a_1234_5678_0000);
    }

    /// FEAT_LPA2 (DS = 1) with 4 KiB: OA[51:50] in bits [9:8], OA[49:48] in bits [49:48]
    /// (DDI 0487 D8.3.1).
    #[test]
    fn lpa2_address_takes_bits_51_48_from_9_8_and_49_48() {
        let d = Desc(0x0003_0000_4000_1000 | 0b10 << 8 | 0b11);
        assert_eq!(d.address_52(12, true), 0x000b_0000_4000_1000);
        assert_eq!(d.address_52(12, false), 0x0000_0000_4000_1000);
    }

    /// Realm stage 2 NS is bit 55; PBHA is [62:59]; GP is 50; nT is 16 (DDI 0487 D8.3).
    #[test]
    fn upper_attribute_bits_decode() {
        let d = Desc(1 << 55 | 0b1011 << 59 | 1 << 50 | 1 << 16 | 1);
        assert!(d.s2_ns() && d.gp() && d.nt());
        assert_eq!(d.pbha(), 0b1011);
        assert!(d.attr_indx_3());
    }
}

mod commands {
    use super::*;

    fn words(c: &Cmd) -> [u64; 2] {
        c.to_words()
    }

    #[test]
    fn new_sets_only_the_opcode_byte() {
        let mut want = [0u8; 16];
        want[0] = 0x46;
        assert_eq!(Cmd::new(op::SYNC).to_bytes(), want);
        assert_eq!(Cmd::new(0x8f).op(), 0x8f);
    }

    /// Linux: FIELD_PREP(CMDQ_0_OP, 0x1) | FIELD_PREP(CMDQ_PREFETCH_0_SID, 0x77).
    #[test]
    fn prefetch_config_matches_linux() {
        assert_eq!(words(&Cmd::prefetch_config(0x77)), [0x0000_0077_0000_0001, 0]);
    }

    /// Linux: OP 0x2 | PREFETCH_0_SID 0x44; dword1 = FIELD_PREP(CMDQ_PREFETCH_1_SIZE, 5)
    /// | (0x8000_1000 & CMDQ_PREFETCH_1_ADDR_MASK (GENMASK(63, 12))).
    #[test]
    fn prefetch_addr_matches_linux() {
        assert_eq!(words(&Cmd::prefetch_addr(0x44, 0x8000_1abc, 5)), [0x44_0000_0002, 0x8000_1005]);
    }

    /// Linux: OP 0x3 | FIELD_PREP(CMDQ_CFGI_0_SID, 0x1234); dword1 = CMDQ_CFGI_1_LEAF.
    #[test]
    fn cfgi_ste_matches_linux() {
        assert_eq!(words(&Cmd::cfgi_ste(0x1234, true)), [0x0000_1234_0000_0003, 1]);
        assert_eq!(words(&Cmd::cfgi_ste(0x1234, false)), [0x0000_1234_0000_0003, 0]);
    }

    /// CMD_CFGI_STE_RANGE: SID in [63:32], Range = CMDQ_CFGI_1_RANGE GENMASK(4, 0).
    #[test]
    fn cfgi_ste_range_matches_linux_layout() {
        assert_eq!(words(&Cmd::cfgi_ste_range(0x100, 7)), [0x0000_0100_0000_0004, 7]);
    }

    /// Linux CMDQ_OP_CFGI_ALL: OP 0x4, dword1 = FIELD_PREP(CMDQ_CFGI_1_RANGE, 31).
    #[test]
    fn cfgi_all_matches_linux() {
        assert_eq!(words(&Cmd::cfgi_all()), [0x04, 31]);
    }

    /// Linux: OP 0x5 | FIELD_PREP(CMDQ_CFGI_0_SSID, 0x321) | CFGI_0_SID 5; dword1 = LEAF.
    #[test]
    fn cfgi_cd_matches_linux() {
        assert_eq!(words(&Cmd::cfgi_cd(5, 0x321, true)), [0x0000_0005_0032_1005, 1]);
    }

    /// Linux: OP 0x6 | CFGI_0_SID 9.
    #[test]
    fn cfgi_cd_all_matches_linux() {
        assert_eq!(words(&Cmd::cfgi_cd_all(9)), [0x0000_0009_0000_0006, 0]);
    }

    /// Linux CMDQ_OP_TLBI_NH_ALL / S12_VMALL: FIELD_PREP(CMDQ_TLBI_0_VMID, v).
    #[test]
    fn tlbi_vmid_commands_match_linux() {
        assert_eq!(words(&Cmd::tlbi_nh_all(3)), [0x0000_0003_0000_0010, 0]);
        assert_eq!(words(&Cmd::tlbi_s12_vmall(7)), [0x0000_0007_0000_0028, 0]);
    }

    /// Linux CMDQ_OP_TLBI_NH_ASID: FIELD_PREP(CMDQ_TLBI_0_ASID, 0x42) | TLBI_0_VMID 3.
    #[test]
    fn tlbi_nh_asid_matches_linux() {
        assert_eq!(words(&Cmd::tlbi_nh_asid(3, 0x42)), [0x0042_0003_0000_0011, 0]);
    }

    /// Linux CMDQ_OP_TLBI_NH_VA: dword0 = OP 0x12 | FIELD_PREP(TLBI_0_NUM, 3) (3<<12)
    /// | FIELD_PREP(TLBI_0_SCALE, 1) (1<<20) | TLBI_0_VMID 1 | TLBI_0_ASID 2;
    /// dword1 = TLBI_1_LEAF | FIELD_PREP(TLBI_1_TTL, 3) (3<<8) | FIELD_PREP(TLBI_1_TG, 1)
    /// (1<<10) | (0xffff_0000_1234_5678 & CMDQ_TLBI_1_VA_MASK).
    #[test]
    fn tlbi_nh_va_with_range_matches_linux() {
        let r = TlbiRange { num: 3, scale: 1, tg: tlbi_tg::G4K as u8, ttl: 3, ttl128: false };
        let c = Cmd::tlbi_nh_va(1, 2, 0xffff_0000_1234_5678, true).with_range(r);
        assert_eq!(words(&c), [0x0002_0001_0010_3012, 0xffff_0000_1234_5701]);
    }

    /// CMD_TLBI_NH_VAA: VMID, Address, Leaf, no ASID.
    #[test]
    fn tlbi_nh_vaa_layout() {
        assert_eq!(words(&Cmd::tlbi_nh_vaa(9, 0x7000, false)), [0x0000_0009_0000_0013, 0x7000]);
    }

    /// Linux CMDQ_OP_TLBI_S2_IPA: OP 0x2a | TLBI_0_VMID 7; dword1 = LEAF
    /// | (0xb_cdef_1234_5fff & CMDQ_TLBI_1_IPA_MASK (GENMASK(51, 12))).
    #[test]
    fn tlbi_s2_ipa_matches_linux() {
        assert_eq!(
            words(&Cmd::tlbi_s2_ipa(7, 0x000b_cdef_1234_5fff, true)),
            [0x0000_0007_0000_002a, 0x000b_cdef_1234_5001]
        );
    }

    /// IHI 0070 §4.4.3.1: the IPA is [55:12], dword1 bits [55:12]; bits [63:56] are RES0.
    #[test]
    fn tlbi_s2_ipa_keeps_bits_55_52_and_drops_above() {
        assert_eq!(
            words(&Cmd::tlbi_s2_ipa(0, 0xff90_0000_0000_0000, false))[1],
            0x0090_0000_0000_0000
        );
    }

    /// Linux CMDQ_OP_TLBI_NSNH_ALL / EL2_ALL: the opcode alone.
    #[test]
    fn opcode_only_tlbis_match_linux() {
        assert_eq!(words(&Cmd::tlbi_nsnh_all()), [0x30, 0]);
        assert_eq!(words(&Cmd::tlbi_el2_all()), [0x20, 0]);
        assert_eq!(words(&Cmd::tlbi_snh_all()), [0x60, 0]);
        assert_eq!(words(&Cmd::tlbi_s_el2_all()), [0x50, 0]);
        assert_eq!(words(&Cmd::tlbi_el3_all()), [0x18, 0]);
    }

    /// EL2/EL3 and Secure TLBIs: ASID [63:48], Address [127:76], VMID [47:32].
    #[test]
    fn el2_el3_and_secure_tlbis_layout() {
        assert_eq!(words(&Cmd::tlbi_el2_asid(0x55)), [0x0055_0000_0000_0021, 0]);
        assert_eq!(words(&Cmd::tlbi_el2_va(0x55, 0x9000, true)), [0x0055_0000_0000_0022, 0x9001]);
        assert_eq!(words(&Cmd::tlbi_el2_vaa(0x9000, true)), [0x23, 0x9001]);
        assert_eq!(words(&Cmd::tlbi_el3_va(0x9000, false)), [0x1a, 0x9000]);
        assert_eq!(words(&Cmd::tlbi_s_s12_vmall(4)), [0x0000_0004_0000_0058, 0]);
        assert_eq!(words(&Cmd::cfgi_vms_pidm(4)), [0x0000_0004_0000_0007, 0]);
    }

    /// Linux CMDQ_OP_CMD_SYNC: FIELD_PREP(CMDQ_SYNC_0_CS, CS_IRQ) (1<<12)
    /// | FIELD_PREP(CMDQ_SYNC_0_MSH, ARM_SMMU_SH_ISH) (3<<22) | FIELD_PREP(MSIATTR, OIWB 0xf)
    /// | FIELD_PREP(MSIDATA, 0xdead); dword1 = 0x9000044 & CMDQ_SYNC_1_MSIADDR_MASK.
    #[test]
    fn sync_matches_linux_bytes() {
        let c = Cmd::sync(cmd::cs::SIG_IRQ, 0x0900_0044, 0xdead, 0xf).with_msh(3);
        assert_eq!(
            c.to_bytes(),
            [0x46, 0x10, 0xc0, 0x0f, 0xad, 0xde, 0x00, 0x00, 0x44, 0x00, 0x00, 0x09, 0, 0, 0, 0]
        );
    }

    /// CMD_SYNC MSIAddr is [55:2] (IHI 0070; Linux masks [51:2]): bits [1:0] and [63:56] drop.
    #[test]
    fn sync_msi_address_is_bits_55_to_2() {
        let c = Cmd::sync(cmd::cs::SIG_NONE, 0xffab_0000_0000_0047, 0, 0);
        assert_eq!(words(&c), [0x46, 0x00ab_0000_0000_0044]);
    }

    /// Realm CMD_SYNC MSI_NS is bit 127 (TF-RMM).
    #[test]
    fn sync_msi_ns_is_bit_127() {
        assert_eq!(words(&Cmd::sync(cmd::cs::SIG_SEV, 0, 0, 0).with_msi_ns()), [0x2046, 1 << 63]);
    }

    /// Linux CMDQ_OP_ATC_INV: CMDQ_0_SSV | CMDQ_ATC_0_GLOBAL (1<<9) | ATC_0_SSID 0x33
    /// | ATC_0_SID 0x44; dword1 = FIELD_PREP(CMDQ_ATC_1_SIZE, ATC_INV_SIZE_ALL 52)
    /// | (0x1234_5000 & CMDQ_ATC_1_ADDR_MASK).
    #[test]
    fn atc_inv_matches_linux() {
        let c = Cmd::atc_inv(0x44, Some(0x33), 0x1234_5678, cmd::ATC_INV_SIZE_ALL as u8, true);
        assert_eq!(words(&c), [0x0000_0044_0003_3a40, 0x1234_5034]);
    }

    /// Linux CMDQ_OP_PRI_RESP: CMDQ_0_SSV | PRI_0_SSID 0x33 | PRI_0_SID 0x44;
    /// dword1 = FIELD_PREP(CMDQ_PRI_1_GRPID, 0x1ff) | FIELD_PREP(CMDQ_PRI_1_RESP, SUCC 2).
    #[test]
    fn pri_resp_matches_linux() {
        let c = Cmd::pri_resp(0x44, Some(0x33), 0x1ff, cmd::pri_resp::SUCCESS);
        assert_eq!(words(&c), [0x0000_0044_0003_3841, 0x21ff]);
    }

    /// Linux CMDQ_OP_RESUME: FIELD_PREP(CMDQ_RESUME_0_RESP, ABORT 2) | RESUME_0_SID 0x44;
    /// dword1 = FIELD_PREP(CMDQ_RESUME_1_STAG, 0xbeef).
    #[test]
    fn resume_matches_linux() {
        let c = Cmd::resume(0x44, 0xbeef, cmd::resume_action::ABORT);
        assert_eq!(words(&c), [0x0000_0044_0000_2044, 0xbeef]);
    }

    #[test]
    fn stall_term_carries_the_stream_id() {
        assert_eq!(words(&Cmd::stall_term(0x44)), [0x0000_0044_0000_0045, 0]);
    }

    /// SSec is bit 10 (TF-RMM `SSEC_BIT BIT(10)`, Hafnium `SSEC_SHIFT 10`); SSV bit 11
    /// (Linux CMDQ_0_SSV).
    #[test]
    fn ssec_and_ssv_bits() {
        assert_eq!(words(&Cmd::cfgi_all().with_ssec()), [0x404, 31]);
        assert_eq!(words(&Cmd::prefetch_config(1).with_ssid(2)), [0x0000_0001_0000_2801, 0]);
    }

    /// TTL128 is dword1 bit 7 (TF-RMM `TTL128_BIT BIT(7)`); SCALE is [25:20] (IHI 0070
    /// §4.4.1.1, 6 bits with SMMU_IDR5.DS).
    #[test]
    fn ttl128_and_six_bit_scale() {
        let r = TlbiRange { num: 0, scale: 39, tg: tlbi_tg::G64K as u8, ttl: 1, ttl128: true };
        let c = Cmd::tlbi_s2_ipa(0, 0, false).with_range(r);
        assert_eq!(words(&c), [0x0270_002a, 0xd80]);
        assert_eq!(c.bits_ext().scale_ds(), 39);
    }

    /// Decoding a Linux-built TLBI_NH_VA through the accessors.
    #[test]
    fn linux_tlbi_nh_va_decodes() {
        let c = Cmd::from_words([0x0002_0001_0010_3012, 0xffff_0000_1234_5701]);
        let b = c.bits();
        assert_eq!(b.opcode(), u64::from(op::TLBI_NH_VA));
        assert_eq!((b.num(), b.scale(), b.vmid(), b.asid()), (3, 1, 1, 2));
        assert!(b.leaf());
        assert_eq!((b.ttl(), b.tg()), (3, 1));
        assert_eq!(b.address() << 12, 0xffff_0000_1234_5000);
    }

    /// Every opcode of the IHI 0070 §4.1.1 table has a name; others are reserved.
    #[test]
    fn opcode_table_is_complete() {
        let named: Vec<u8> = (0..=255u8).filter(|&o| op::name(o).is_some()).collect();
        assert_eq!(
            named,
            [
                0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x18, 0x1a, 0x20,
                0x21, 0x22, 0x23, 0x28, 0x2a, 0x30, 0x40, 0x41, 0x44, 0x45, 0x46, 0x50, 0x51, 0x52,
                0x53, 0x58, 0x5a, 0x60, 0x70, 0x73
            ]
        );
    }
}

mod event_records {
    use super::*;

    /// Every field set, so each encoding shows which fields its event type keeps.
    fn all(event: u8) -> EventFields {
        EventFields {
            id: event,
            sid: 0x10,
            ssid: Some(5),
            stag: 0x1234,
            gpcf: true,
            stall: true,
            pnu: true,
            ind: true,
            rnw: true,
            nsipa: true,
            s2: true,
            class: class::TT,
            ttrnw: true,
            input_addr: 0xffff_8000_1234_5678,
            addr2: 0xffab_cdef_1234_5678,
        }
    }

    fn enc(event: u8) -> [u64; 4] {
        EventRecord::encode(&all(event)).to_words()
    }

    // Record dword0: EVTQ_0_ID [7:0] | EVTQ_0_SSV (1<<11) | EVTQ_0_SSID 5 (5<<12)
    // | EVTQ_0_SID 0x10 (0x10<<32). dword1: EVTQ_1_STAG 0x1234 | GPCF 1<<16 (record bit 80)
    // | EVTQ_1_STALL 1<<31 | EVTQ_1_PnU 1<<33 | EVTQ_1_InD 1<<34 | EVTQ_1_RnW 1<<35
    // | NSIPA 1<<38 (record bit 102) | EVTQ_1_S2 1<<39 | FIELD_PREP(EVTQ_1_CLASS, TT) 1<<40
    // | EVTQ_1_TT_READ 1<<44. dword2 = EVTQ_2_ADDR. dword3 = IPA [55:12] or FetchAddr [55:3].
    const D0_SSV: u64 = 0x0000_0010_0000_5800;
    const INPUT: u64 = 0xffff_8000_1234_5678;
    const IPA: u64 = 0x00ab_cdef_1234_5000;
    const FETCH: u64 = 0x00ab_cdef_1234_5678;

    /// QEMU 11.0 C_BAD_STE for SID 8: bytes `04 00 00 00 08 00 00 00` then zeros.
    #[test]
    fn c_bad_ste_for_sid_8_matches_qemu_bytes() {
        let f = EventFields { id: id::C_BAD_STE, sid: 8, ..Default::default() };
        let mut want = [0u8; 32];
        want[0] = 0x04;
        want[4] = 0x08;
        assert_eq!(EventRecord::encode(&f).to_bytes(), want);
    }

    #[test]
    fn f_uut_keeps_reason_attributes_and_input() {
        assert_eq!(enc(id::F_UUT), [D0_SSV | 0x01, 0x0000_000e_0000_1234, INPUT, 0]);
    }

    #[test]
    fn c_bad_streamid_keeps_only_the_stream() {
        assert_eq!(enc(id::C_BAD_STREAMID), [D0_SSV | 0x02, 0, 0, 0]);
    }

    /// F_STE_FETCH: Reason [79:64], GPCF 80, FetchAddr [55:3] in words 6-7 (Linux
    /// EVTQ_3_FETCH_ADDR is [51:3] of dword 3).
    #[test]
    fn f_ste_fetch_keeps_reason_gpcf_and_fetch_address() {
        assert_eq!(enc(id::F_STE_FETCH), [D0_SSV | 0x03, 0x0001_1234, 0, FETCH]);
    }

    #[test]
    fn c_bad_ste_keeps_only_the_stream() {
        assert_eq!(enc(id::C_BAD_STE), [D0_SSV | 0x04, 0, 0, 0]);
    }

    #[test]
    fn f_bad_ats_treq_keeps_the_input_address() {
        assert_eq!(enc(id::F_BAD_ATS_TREQ), [D0_SSV | 0x05, 0, INPUT, 0]);
    }

    /// F_STREAM_DISABLED defines only the StreamID (IHI 0070 §7.3.7).
    #[test]
    fn f_stream_disabled_has_no_substream() {
        assert_eq!(enc(id::F_STREAM_DISABLED), [0x0000_0010_0000_0006, 0, 0, 0]);
    }

    /// F_TRANSL_FORBIDDEN: StreamID, RnW (99), InputAddr (IHI 0070 §7.3.8).
    #[test]
    fn f_transl_forbidden_keeps_rnw_and_input() {
        assert_eq!(enc(id::F_TRANSL_FORBIDDEN), [0x0000_0010_0000_0007, 1 << 35, INPUT, 0]);
    }

    /// C_BAD_SUBSTREAMID: SubstreamID always valid, no SSV (IHI 0070 §7.3.9).
    #[test]
    fn c_bad_substreamid_has_substream_without_ssv() {
        assert_eq!(enc(id::C_BAD_SUBSTREAMID), [0x0000_0010_0000_5008, 0, 0, 0]);
    }

    /// Decoding: the SubstreamID of C_BAD_SUBSTREAMID is valid without SSV (§7.3.9).
    #[test]
    fn c_bad_substreamid_decodes_its_substream_without_ssv() {
        let r = EventRecord::from_words([0x0000_0010_0000_5008, 0, 0, 0]);
        assert_eq!(r.fields().ssid, Some(5));
        assert_eq!(r.fields().sid, 0x10);
    }

    #[test]
    fn f_cd_fetch_keeps_reason_gpcf_and_fetch_address() {
        assert_eq!(enc(id::F_CD_FETCH), [D0_SSV | 0x09, 0x0001_1234, 0, FETCH]);
    }

    #[test]
    fn c_bad_cd_keeps_only_the_stream() {
        assert_eq!(enc(id::C_BAD_CD), [D0_SSV | 0x0a, 0, 0, 0]);
    }

    /// F_WALK_EABT: Reason, GPCF, PnU/InD/RnW, S2, CLASS, InputAddr, FetchAddr; no Stall,
    /// NSIPA or TTRnW.
    #[test]
    fn f_walk_eabt_keeps_walk_fields() {
        assert_eq!(enc(id::F_WALK_EABT), [D0_SSV | 0x0b, 0x0000_018e_0001_1234, INPUT, FETCH]);
    }

    /// F_TRANSLATION with RnW/PnU/InD/S2/CLASS at record bits 99/97/98/103/105:104 (Linux
    /// EVTQ_1_RnW 1<<35 of dword 1 etc.), STAG, Stall, NSIPA, IPA [55:12].
    #[test]
    fn f_translation_keeps_translation_fields() {
        assert_eq!(enc(id::F_TRANSLATION), [D0_SSV | 0x10, 0x0000_01ce_8000_1234, INPUT, IPA]);
    }

    #[test]
    fn f_addr_size_keeps_translation_fields() {
        assert_eq!(enc(id::F_ADDR_SIZE), [D0_SSV | 0x11, 0x0000_01ce_8000_1234, INPUT, IPA]);
    }

    #[test]
    fn f_access_keeps_translation_fields() {
        assert_eq!(enc(id::F_ACCESS), [D0_SSV | 0x12, 0x0000_01ce_8000_1234, INPUT, IPA]);
    }

    /// F_PERMISSION adds TTRnW at record bit 108 (Linux EVTQ_1_TT_READ 1<<44).
    #[test]
    fn f_permission_adds_ttrnw() {
        assert_eq!(enc(id::F_PERMISSION), [D0_SSV | 0x13, 0x0000_11ce_8000_1234, INPUT, IPA]);
    }

    #[test]
    fn f_tlb_conflict_keeps_reason_attributes_and_addresses() {
        assert_eq!(enc(id::F_TLB_CONFLICT), [D0_SSV | 0x20, 0x0000_008e_0000_1234, INPUT, IPA]);
    }

    #[test]
    fn f_cfg_conflict_keeps_reason() {
        assert_eq!(enc(id::F_CFG_CONFLICT), [D0_SSV | 0x21, 0x1234, 0, 0]);
    }

    /// E_PAGE_REQUEST InputAddr is [63:12] (IHI 0070 §7.3.19).
    #[test]
    fn e_page_request_keeps_the_page_address() {
        assert_eq!(enc(id::E_PAGE_REQUEST), [D0_SSV | 0x24, 0, 0xffff_8000_1234_5000, 0]);
    }

    #[test]
    fn f_vms_fetch_keeps_reason_gpcf_and_fetch_address() {
        assert_eq!(enc(id::F_VMS_FETCH), [D0_SSV | 0x25, 0x0001_1234, 0, FETCH]);
    }

    #[test]
    fn impdef_events_keep_every_field() {
        let words = enc(0xe3);
        assert_eq!(words, [D0_SSV | 0xe3, 0x0000_11ce_8001_1234, INPUT, IPA]);
        assert_eq!(event::id::name(0xe3), "IMPDEF_EVENT");
    }

    /// The SubstreamID field is 20 bits: a wider value cannot spill into the StreamID.
    #[test]
    fn substream_id_is_twenty_bits() {
        let f =
            EventFields { id: id::C_BAD_CD, sid: 1, ssid: Some(0xfff_ffff), ..Default::default() };
        assert_eq!(EventRecord::encode(&f).to_words()[0], 0x0000_0001_ffff_f80a);
    }

    #[test]
    fn unmasked_encoding_keeps_fields_the_type_leaves_res0() {
        let words = EventRecord::encode_unmasked(&all(id::C_BAD_STE)).to_words();
        assert_eq!(words, [D0_SSV | 0x04, 0x0000_11ce_8001_1234, INPUT, IPA]);
    }

    /// A Linux-style F_PERMISSION record decodes: EVTQ_0_ID 0x13 | SSV | SSID 0x42 | SID 0x99;
    /// EVTQ_1_STAG 0xbeef | STALL | RnW | S2 | CLASS TT | TT_READ; ADDR; IPA 0x8000_1000.
    #[test]
    fn linux_permission_record_decodes() {
        let r = EventRecord::from_words([
            0x0000_0099_0004_2813,
            0x0000_1188_8000_beef,
            0x0000_7fff_0000_1234,
            0x8000_1000,
        ]);
        let f = r.fields();
        assert_eq!(f.id, id::F_PERMISSION);
        assert_eq!((f.sid, f.ssid, f.stag), (0x99, Some(0x42), 0xbeef));
        assert!(f.stall && f.rnw && f.s2 && f.ttrnw);
        assert!(!f.pnu && !f.ind && !f.nsipa && !f.gpcf);
        assert_eq!(f.class, class::TT);
        assert_eq!((f.input_addr, f.addr2), (0x0000_7fff_0000_1234, 0x8000_1000));
    }

    /// E_PAGE_REQUEST flags: Span [115:108], pR 103, pW 102, pX 101, uR 99, uW 98, uX 97
    /// (IHI 0070 G.b §7.3.19 figure).
    #[test]
    fn page_request_flags_decode() {
        let r = EventRecord::from_words([0x24, 0x0000_30ee_0000_0000, 0, 0]);
        let b = r.bits();
        assert_eq!(b.pr_span(), 3);
        assert!(b.pr_pr() && b.pr_pw() && b.pr_px() && b.pr_ur() && b.pr_uw() && b.pr_ux());
    }
}

mod registers {
    use super::*;

    /// QEMU virt SMMU_IDR0 0x0d44101b: S1P, S2P, TTF=AArch64, COHACC, ASID16, VMID16,
    /// TTENDIAN=LE, STALL_MODEL=terminate only, TERM_MODEL, ST_LEVEL=2-level.
    #[test]
    fn qemu_idr0_decodes() {
        let r = Idr0(0x0d44_101b);
        assert!(r.s1p() && r.s2p() && r.cohacc() && r.asid16() && r.vmid16() && r.term_model());
        assert_eq!(r.ttf(), ttf::AARCH64);
        assert_eq!(r.ttendian(), 0b10);
        assert_eq!(r.stall_model(), stall_model::TERMINATE_ONLY);
        assert_eq!(r.st_level(), 1);
        assert!(!r.msi() && !r.pri() && !r.ats() && !r.hyp() && !r.rme_impl());
    }

    /// RME ACS FVP SMMU_IDR0 0x484616BB: ..., BTM, HTTU=2, Hyp, ATS, VMW, RME_IMPL.
    #[test]
    fn rme_fvp_idr0_decodes() {
        let r = Idr0(0x4846_16bb);
        assert!(r.btm() && r.hyp() && r.ats() && r.vmw() && r.rme_impl());
        assert_eq!(r.httu(), 2);
        assert!(!r.msi() && !r.sev() && !r.pri());
    }

    /// QEMU virt SMMU_IDR1 0x02730010: SIDSIZE 16, EVENTQS 19, CMDQS 19 (Linux IDR1_*).
    #[test]
    fn qemu_idr1_decodes() {
        let r = Idr1(0x0273_0010);
        assert_eq!(
            (r.sidsize(), r.ssidsize(), r.priqs(), r.eventqs(), r.cmdqs()),
            (16, 0, 0, 19, 19)
        );
    }

    /// RME ACS SMMU_IDR3 0xF714: HAD, XNX, FWB, STT, RIL, BBML=2, E0PD, PTWNNC, DPT.
    #[test]
    fn rme_fvp_idr3_decodes() {
        let r = Idr3(0xf714);
        assert!(
            r.had()
                && r.xnx()
                && r.fwb()
                && r.stt()
                && r.ril()
                && r.e0pd()
                && r.ptwnnc()
                && r.dpt()
        );
        assert_eq!(r.bbml(), 2);
        assert!(!r.pbha() && !r.mpam());
        let v34 = Idr3(0x00ff_0000);
        assert!(v34.pasidtt() && v34.epan() && v34.s1pi() && v34.s2pi() && v34.s2po());
        assert!(v34.the() && v34.mteperm() && v34.aie());
    }

    /// SMMU_IDR5 0xFFFF0475: OAS 48, GRAN4K/16K/64K, VAX 52, STALL_MAX 0xffff.
    #[test]
    fn rme_fvp_idr5_decodes() {
        let r = Idr5(0xffff_0475);
        assert_eq!(pa_bits(u64::from(r.oas())), Some(48));
        assert!(r.gran4k() && r.gran16k() && r.gran64k() && !r.ds() && !r.d128());
        assert_eq!((r.vax(), r.stall_max()), (1, 0xffff));
    }

    /// SMMU_S_IDR1 0xA0000002 (Hafnium docs): SECURE_IMPL, SEL2, S_SIDSIZE 2.
    #[test]
    fn secure_idr1_decodes() {
        let r = SIdr1(0xa000_0002);
        assert!(r.secure_impl() && r.sel2());
        assert_eq!(r.s_sidsize(), 2);
        assert!(SIdr3(1 << 6).sams());
    }

    /// SMMU_ROOT_IDR0 0x80000D: ROOT_IMPL, RGPTM, REALM_IMPL, BA_REALM 2.
    #[test]
    fn root_idr0_decodes() {
        let r = RootIdr0(0x0080_000d);
        assert!(r.root_impl() && r.rgptm() && r.realm_impl() && !r.bgptm());
        assert_eq!(r.ba_realm(), 2);
    }

    /// SMMU_R_IDR3 (TF-RMM R_IDR3_DPT_BIT BIT(15), R_IDR3_MEC_BIT BIT(16)); R_IDR1 RME_DA_IMPL 31.
    #[test]
    fn realm_id_registers_decode() {
        let r = RIdr3(0x3_8000);
        assert!(r.dpt() && r.mec() && r.xt());
        assert!(RIdr1(1 << 31).rme_da_impl());
    }

    /// Linux CR0_SMMUEN/PRIQEN/EVTQEN/CMDQEN/ATSCHK = bits 0..4; VMW [8:6]; S_CR0 SIF 5,
    /// NSSTALLD 9 (IHI 0070 §6.3.57); DPT_WALK_EN 10 (TF-RMM).
    #[test]
    fn cr0_fields() {
        let r = Cr0(0x1f | 3 << 6 | 1 << 10);
        assert!(
            r.smmuen() && r.priqen() && r.eventqen() && r.cmdqen() && r.atschk() && r.dpt_walk_en()
        );
        assert_eq!(r.vmw(), 3);
        let s = Cr0(S_CR0_SIF | S_CR0_NSSTALLD);
        assert!(s.sif() && s.nsstalld());
        assert_eq!(CR0_NS_MASK, 0x1f | 0x1c0);
        assert_eq!(CR0_S_MASK, 0x1 | 0x4 | 0x8 | 0x20 | 0x1c0 | 0x200);
        assert_eq!(CR0_R_MASK, 0x1f | 0x1c0 | 0x400);
    }

    /// Linux CR1_{TABLE,QUEUE}_{SH,OC,IC} and CR2_{E2H,RECINVSID,PTM}.
    #[test]
    fn cr1_and_cr2_fields() {
        let r = Cr1(3 << 10 | 1 << 8 | 2 << 6 | 3 << 4 | 1 << 2 | 2);
        assert_eq!((r.table_sh(), r.table_oc(), r.table_ic()), (3, 1, 2));
        assert_eq!((r.queue_sh(), r.queue_oc(), r.queue_ic()), (3, 1, 2));
        let c = Cr2(0b1011);
        assert!(c.e2h() && c.recinvsid() && !c.ptm() && c.rec_cfg_ats());
    }

    /// Linux GBPA_UPDATE (1<<31), GBPA_ABORT (1<<20); the QEMU reset value 0x1000 is
    /// SHCFG = use incoming.
    #[test]
    fn gbpa_fields() {
        let r =
            Gbpa(1 << 31 | 1 << 20 | 3 << 18 | 2 << 16 | 3 << 14 | 1 << 12 | 0xd << 8 | 1 << 4 | 5);
        assert!(r.update() && r.abort() && r.mtcfg());
        assert_eq!((r.instcfg(), r.privcfg(), r.nscfg(), r.shcfg()), (3, 2, 3, 1));
        assert_eq!((r.alloccfg(), r.memattr()), (0xd, 5));
        assert_eq!(Gbpa(GBPA_RESET).shcfg(), 1);
    }

    /// Linux STRTAB_BASE_CFG: FIELD_PREP(FMT, 2LVL) | FIELD_PREP(SPLIT, 8) | LOG2SIZE 16;
    /// STRTAB_BASE: STRTAB_BASE_RA | address; Q_BASE_RWA | address | Q_BASE_LOG2SIZE 10.
    #[test]
    fn table_and_queue_bases() {
        let c = StrtabBaseCfg(0x1_0210);
        assert_eq!((c.fmt(), c.split(), c.log2size()), (strtab_fmt::TWO_LEVEL, 8, 16));
        let s = StrtabBase(1 << 62 | 0x4800_0000);
        assert!(s.ra());
        assert_eq!(s.addr() << 6, 0x4800_0000);
        let q = QueueBase(0x4000_0000_4e17_000a);
        assert!(q.ra_wa());
        assert_eq!((q.addr() << 5, q.log2size()), (0x4e17_0000, 10));
    }

    /// Linux IRQ_CTRL_*, GERROR_* (bits 0, 2-8; GERROR_ERR_MASK 0x1fd), CMDQ_CONS_ERR
    /// GENMASK(30, 24), Q_OVERFLOW_FLAG (1<<31), MSI_CFG2_SH/MEMATTR.
    #[test]
    fn irq_gerror_and_queue_pointer_fields() {
        let r = IrqCtrl(0b101);
        assert!(r.gerror_irqen() && !r.priq_irqen() && r.eventq_irqen());
        let linux_mask = gerror::CMDQ_ERR
            | gerror::EVENTQ_ABT_ERR
            | gerror::PRIQ_ABT_ERR
            | gerror::MSI_CMDQ_ABT_ERR
            | gerror::MSI_EVENTQ_ABT_ERR
            | gerror::MSI_PRIQ_ABT_ERR
            | gerror::MSI_GERROR_ABT_ERR
            | gerror::SFM_ERR;
        assert_eq!(linux_mask, 0x1fd);
        assert_eq!((gerror::CMDQP_ERR, gerror::DPT_ERR), (1 << 9, 1 << 10));
        assert_eq!(CMDQ_CONS_ERR_MASK, 0x7f00_0000);
        assert_eq!(Q_OVERFLOW_FLAG, 0x8000_0000);
        let c = IrqCfg2(0x3f);
        assert_eq!((c.sh(), c.memattr()), (3, 0xf));
    }

    /// Register offsets against Linux ARM_SMMU_* and TF-A / IHI 0070 Root page offsets.
    #[test]
    fn offsets() {
        assert_eq!(
            [off::CR0, off::GBPA, off::IRQ_CTRL, off::GERROR, off::STRTAB_BASE_CFG, off::CMDQ_CONS],
            [0x20, 0x44, 0x50, 0x60, 0x88, 0x9c]
        );
        assert_eq!([off::EVENTQ_PROD, off::PRIQ_IRQ_CFG2, off::IIDR], [0xa8, 0xdc, 0x18]);
        assert_eq!(S_OFFSET + off::S_INIT, 0x803c);
        assert_eq!(
            [
                root_off::ROOT_CR0,
                root_off::ROOT_GPT_BASE,
                root_off::ROOT_GPT_BASE_CFG,
                root_off::ROOT_GPF_FAR
            ],
            [0x20, 0x28, 0x30, 0x38]
        );
        assert_eq!(
            [root_off::ROOT_GPT_CFG_FAR, root_off::ROOT_TLBI, root_off::ROOT_TLBI_CTRL],
            [0x40, 0x50, 0x58]
        );
    }

    /// TF-A: ROOT_GPT_BASE_CFG = GPCCR_EL3 with GPC (bit 16) cleared, e.g. SET_GPCCR_PPS(5)
    /// | SET_GPCCR_IRGN(WB_RA_WA 1) (1<<8) | SET_GPCCR_ORGN(1) (1<<10) | SET_GPCCR_SH(IS 3)
    /// (3<<12) | PGS 4K (0) | L0GPTSZ 30-bit..39-bit (0x9<<20) = 0x903505.
    #[test]
    fn root_gpt_base_cfg_fields() {
        let r = RootGptBaseCfg(0x90_3505);
        assert_eq!((r.pps(), r.irgn(), r.orgn(), r.sh(), r.pgs(), r.l0gptsz()), (5, 1, 1, 3, 0, 9));
        assert!(!r.gpcp());
        assert_eq!(ROOT_GPT_BASE_CFG_MASK, 0x2_ff07);
        assert_eq!(gpt::l0gptsz_bits(r.l0gptsz()), Some(39));
        assert_eq!(gpt::pgs_shift(r.pgs()), Some(12));
        assert_eq!(gpt::pgs_shift(0b01), Some(16), "PGS 0b01 is 64 KiB (TF-A GPCCR_PGS_64K)");
    }

    /// TF-A writes `GPTBR_EL3 << 12` to ROOT_GPT_BASE: ADDR [51:12] in place.
    #[test]
    fn root_gpt_base_addr() {
        let gptbr_el3 = 0x8_0000u64;
        let r = RootGptBase(gptbr_el3 << 12);
        assert_eq!(r.addr(), gptbr_el3);
        assert_eq!(ROOT_GPT_BASE_MASK, 0x000f_ffff_ffff_f000);
    }

    /// ROOT_GPF_FAR: FPAS [63:62] Realm, FADDR [55:12] 0x8000_2000, FAULTCODE [11:4]
    /// GPF_WALK_EABT, REASON [3:1] TRANSLATION, FAULT 0 (IHI 0070 §6.3.116).
    #[test]
    fn root_gpf_far_fields() {
        let r = RootFar(0xc000_0000_8000_20b3);
        assert!(r.fault());
        assert_eq!(r.reason(), far_reason::TRANSLATION);
        assert_eq!(r.faultcode(), far_faultcode::GPF_WALK_EABT);
        assert_eq!(r.faddr() << 12, 0x8000_2000);
        assert_eq!(r.fpas(), far_fpas::REALM);
        assert_eq!(r.cfg_err(), 0);
    }

    /// ROOT_GPT_CFG_FAR adds CFG_ERR [59:56] (IHI 0070 §6.3.117).
    #[test]
    fn root_gpt_cfg_far_fields() {
        let r = RootFar(0x4300_0004_4000_0003);
        assert_eq!(r.cfg_err(), gpt_cfg_err::INVALID_ENTRY);
        assert_eq!(r.fpas(), far_fpas::NON_SECURE);
        assert_eq!(r.faddr() << 12, 0x4_4000_0000);
        assert_eq!(r.reason(), far_reason::TRANSLATION);
    }

    /// ROOT_CR0 ACCESSEN 0, GPCEN 1 (TF-A SMMU_ROOT_CR0_ACCESSEN / _GPCEN); ROOT_TLBI
    /// Address [51:12], SIZE [7:4], L 1, ALL 0 (IHI 0070 §6.3.118); ROOT_TLBI_CTRL RUN 0.
    #[test]
    fn root_control_and_tlbi_fields() {
        let c = RootCr0(0b11);
        assert!(c.accessen() && c.gpcen());
        let t = RootTlbi(0x8020_0032);
        assert!(!t.all() && t.l());
        assert_eq!(root_tlbi_size_bytes(t.size()), Some(2 << 20));
        assert_eq!(t.address() << 12, 0x8020_0000);
        assert!(RootTlbiCtrl(1).run());
        assert_eq!(root_tlbi_size_bytes(10), None);
    }

    #[test]
    fn s_init_inv_all_is_bit_0() {
        assert!(SInit(1).inv_all());
        assert!(!SInit(2).inv_all());
    }

    #[test]
    fn pa_sizes_follow_the_oas_table() {
        let bits: Vec<_> = (0..8).map(regs::pa_bits).collect();
        assert_eq!(
            bits,
            [Some(32), Some(36), Some(40), Some(42), Some(44), Some(48), Some(52), None]
        );
    }
}

mod granule_protection_table {
    use super::*;

    /// TF-A GPT_GPI_* values.
    #[test]
    fn gpi_encodings_match_tf_a() {
        assert_eq!(
            [
                gpi::NO_ACCESS,
                gpi::SECURE,
                gpi::NON_SECURE,
                gpi::ROOT,
                gpi::REALM,
                gpi::NSO,
                gpi::ANY
            ],
            [0x0, 0x8, 0x9, 0xa, 0xb, 0xd, 0xf]
        );
        assert!(gpi::is_valid(gpi::REALM) && !gpi::is_valid(0b0001) && !gpi::is_valid(gpi::NSO));
    }

    /// TF-A GPT_L0_BLK_DESC(GPT_GPI_NS) = GPT_L0_TYPE_BLK_DESC (1) | 9 << 4.
    #[test]
    fn l0_block_descriptor_matches_tf_a() {
        let d = GptL0Desc(0x91);
        assert!(d.is_block() && !d.is_table());
        assert_eq!(d.gpi(), gpi::NON_SECURE);
        let mut e = GptL0Desc::default();
        e.set_desc_type(gpt::L0_TYPE_BLOCK);
        e.set_gpi(gpi::NON_SECURE);
        assert_eq!(e.0, 0x91);
    }

    /// TF-A GPT_L0_TBL_DESC(0x8000_3000) = GPT_L0_TYPE_TBL_DESC (3)
    /// | (pa & (GPT_L0_TBL_DESC_L1ADDR_MASK << 12)).
    #[test]
    fn l0_table_descriptor_matches_tf_a() {
        let d = GptL0Desc(0x8000_3003);
        assert!(d.is_table());
        assert_eq!(d.table_address(), 0x8000_3000);
        assert_eq!(gpt::L0_TABLE_RES0 & 0x8000_3003, 0);
        assert_eq!(gpt::L0_BLOCK_RES0 & 0x91, 0);
    }

    /// TF-A GPT_L1_CONT_DESC_SIZE(GPT_GPI_REALM, 32MB) = GPT_L1_TYPE_CONT_DESC (1)
    /// | GPT_L1_CONTIG_32MB (2) << 8 | 0xb << 4 = 0x2b1.
    #[test]
    fn l1_contiguous_descriptor_matches_tf_a() {
        let d = GptL1Desc(0x2b1);
        assert!(d.is_contiguous());
        assert_eq!((d.contig_gpi(), d.contig()), (gpi::REALM, gpt::contig::SIZE_32M));
        assert_eq!(gpt::contig::shift(d.contig()), Some(25));
        assert_eq!(gpt::contig::shift(0), None);
    }

    /// TF-A GPT_BUILD_L1_DESC(GPT_GPI_NS) = 0x9999_9999_9999_9999; GPI i is bits [4i+3:4i].
    #[test]
    fn l1_granules_descriptor_matches_tf_a() {
        assert_eq!(GptL1Desc::granules_all(gpi::NON_SECURE).0, 0x9999_9999_9999_9999);
        let d = GptL1Desc(0xf000_0000_0000_00b8);
        assert!(!d.is_contiguous());
        assert_eq!((d.granule_gpi(0), d.granule_gpi(1), d.granule_gpi(15)), (8, 0xb, 0xf));
    }
}

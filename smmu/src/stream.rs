//! StreamID to STE: the Stream table walk (linear and 2-level, IHI 0070 §5.1, §6.3.24-25) and
//! STE validation into a typed configuration (§5.2, pseudocode `SteIllegal()` of §5.2.2).
//!
//! Every configuration check is a [`Rule`]: one row of `smmu/RULES.md`, with the section of the
//! spec it comes from and the event it produces.

use crate::config::SmmuConfig;
use crate::mem::{PhysMem, read_obj};
use crate::pas::{Pas, SecSid};
use crate::spec::event::id;
use crate::spec::genmask;
use crate::spec::regs::{
    Aidr, STRTAB_SPLIT_DEFAULT, STRTAB_SPLIT_VALID, StrtabBase, httu, pa_bits, stall_model,
    strtab_fmt, ttendian, ttf,
};
use crate::spec::ste::{
    self, STE_SHIFT, Ste, addr_55_4, addr_55_6, config, eats, nscfg, privcfg, s1dss, s1fmt, s2tg,
};
use crate::spec::table::{
    CD_LEAF_4K_SHIFT, CD_LEAF_64K_SHIFT, L1STD_SIZE, L1STD_SPAN_RESERVED_MIN, L1Std,
};
use crate::trace::{self, FetchKind, TraceEvent, TraceSink};
use crate::walk::{self, Granule, S2Cfg, fits};
use crate::{Smmu, Txn};

/// A configuration rule: one row of `smmu/RULES.md`.
///
/// Each variant is a condition under which the SMMU terminates a transaction at configuration
/// time (or, for the `Model*` rows, a configuration the architecture allows but this model does
/// not implement and therefore treats as ILLEGAL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    // C_BAD_STREAMID (§7.3.3, §5.1.1, §6.3.25)
    SidRange,
    L1stdSpan0,
    L1stdSpanReserved,
    L1stdSpanSplit,
    L1stdSpanSid,
    // C_BAD_STE (§5.2, §5.2.2)
    SteV,
    SteCfgS1p,
    SteCfgS2p,
    SteCfgSel2,
    SteS2Aa32Secure,
    SteEatsSplit,
    SteEatsFullS2s,
    SteEatsDptStrw,
    SteStrwReserved,
    SteStrwSecureReserved,
    SteStrwSecureEl3,
    SteStrwSecureSel2,
    SteS1Stalld,
    SteS1CdMax,
    SteS1FmtCd2l,
    SteS1CtxPtr,
    SteS2FwbAa32,
    SteS2sNoStall,
    SteS2sForced,
    SteS2Aa32,
    SteS2Aa64,
    SteS2Ha,
    SteS2Hd,
    SteS2Haft,
    SteS2Tg,
    SteS2TtbPs,
    SteS2Ttb48,
    SteS2T0szMin,
    SteS2T0szMax,
    SteS2Sl0,
    SteS2EndiLe,
    SteS2EndiBe,
    SteS2Vmid,
    ModelS2Aa32,
    ModelS2BigEndian,
    // C_BAD_SUBSTREAMID (§7.3.9, §5.2 S1CDMax/S1Fmt, §5.3.1)
    SsidS1Off,
    SsidNotSupported,
    SsidCdMax0,
    SsidRange,
    L1cdV,
    L1cdL2Ptr,
    // F_STREAM_DISABLED (§7.3.7, §5.2 S1DSS)
    DssTerminate,
    DssSsid0,
    // C_BAD_CD (§5.4, §5.4.2)
    CdV,
    CdS1Stalld,
    CdA,
    CdSNoStall,
    CdSForced,
    CdEndiLe,
    CdEndiBe,
    CdAa32,
    CdAa64Ttf,
    CdAa64S2Aa32,
    CdHa,
    CdHd,
    CdHaft,
    CdAsid,
    CdT0szMin,
    CdT0szMax,
    CdT1szMin,
    CdT1szMax,
    CdTg0,
    CdTg1,
    CdTtb0Ips,
    CdTtb0_48,
    CdTtb1Ips,
    CdTtb1_48,
    ModelCdAa32,
    ModelCdBigEndian,
}

impl Rule {
    /// The row id in `smmu/RULES.md`.
    pub fn id(self) -> &'static str {
        use Rule::*;
        match self {
            SidRange => "SID-RANGE",
            L1stdSpan0 => "L1STD-SPAN0",
            L1stdSpanReserved => "L1STD-SPAN-RES",
            L1stdSpanSplit => "L1STD-SPAN-SPLIT",
            L1stdSpanSid => "L1STD-SPAN-SID",
            SteV => "STE-V",
            SteCfgS1p => "STE-CFG-S1P",
            SteCfgS2p => "STE-CFG-S2P",
            SteCfgSel2 => "STE-CFG-SEL2",
            SteS2Aa32Secure => "STE-S2AA32-SECURE",
            SteEatsSplit => "STE-EATS-SPLIT",
            SteEatsFullS2s => "STE-EATS-FULL-S2S",
            SteEatsDptStrw => "STE-EATS-DPT-STRW",
            SteStrwReserved => "STE-STRW-RES",
            SteStrwSecureReserved => "STE-STRW-S-RES",
            SteStrwSecureEl3 => "STE-STRW-S-EL3",
            SteStrwSecureSel2 => "STE-STRW-S-SEL2",
            SteS1Stalld => "STE-S1STALLD",
            SteS1CdMax => "STE-S1CDMAX",
            SteS1FmtCd2l => "STE-S1FMT-CD2L",
            SteS1CtxPtr => "STE-S1CTXPTR",
            SteS2FwbAa32 => "STE-S2FWB-AA32",
            SteS2sNoStall => "STE-S2S-NOSTALL",
            SteS2sForced => "STE-S2S-FORCED",
            SteS2Aa32 => "STE-S2AA32",
            SteS2Aa64 => "STE-S2AA64",
            SteS2Ha => "STE-S2HA",
            SteS2Hd => "STE-S2HD",
            SteS2Haft => "STE-S2HAFT",
            SteS2Tg => "STE-S2TG",
            SteS2TtbPs => "STE-S2TTB-PS",
            SteS2Ttb48 => "STE-S2TTB-48",
            SteS2T0szMin => "STE-S2T0SZ-MIN",
            SteS2T0szMax => "STE-S2T0SZ-MAX",
            SteS2Sl0 => "STE-S2SL0",
            SteS2EndiLe => "STE-S2ENDI-LE",
            SteS2EndiBe => "STE-S2ENDI-BE",
            SteS2Vmid => "STE-S2VMID",
            ModelS2Aa32 => "MODEL-S2AA32",
            ModelS2BigEndian => "MODEL-S2ENDI",
            SsidS1Off => "SSID-S1OFF",
            SsidNotSupported => "SSID-UNSUPPORTED",
            SsidCdMax0 => "SSID-CDMAX0",
            SsidRange => "SSID-RANGE",
            L1cdV => "L1CD-V",
            L1cdL2Ptr => "L1CD-L2PTR",
            DssTerminate => "DSS-TERMINATE",
            DssSsid0 => "DSS-SSID0",
            CdV => "CD-V",
            CdS1Stalld => "CD-S1STALLD",
            CdA => "CD-A",
            CdSNoStall => "CD-S-NOSTALL",
            CdSForced => "CD-S-FORCED",
            CdEndiLe => "CD-ENDI-LE",
            CdEndiBe => "CD-ENDI-BE",
            CdAa32 => "CD-AA32",
            CdAa64Ttf => "CD-AA64-TTF",
            CdAa64S2Aa32 => "CD-AA64-S2AA32",
            CdHa => "CD-HA",
            CdHd => "CD-HD",
            CdHaft => "CD-HAFT",
            CdAsid => "CD-ASID",
            CdT0szMin => "CD-T0SZ-MIN",
            CdT0szMax => "CD-T0SZ-MAX",
            CdT1szMin => "CD-T1SZ-MIN",
            CdT1szMax => "CD-T1SZ-MAX",
            CdTg0 => "CD-TG0",
            CdTg1 => "CD-TG1",
            CdTtb0Ips => "CD-TTB0-IPS",
            CdTtb0_48 => "CD-TTB0-48",
            CdTtb1Ips => "CD-TTB1-IPS",
            CdTtb1_48 => "CD-TTB1-48",
            ModelCdAa32 => "MODEL-CD-AA32",
            ModelCdBigEndian => "MODEL-CD-ENDI",
        }
    }

    /// The event this rule produces.
    pub fn event(self) -> u8 {
        use Rule::*;
        match self {
            SidRange | L1stdSpan0 | L1stdSpanReserved | L1stdSpanSplit | L1stdSpanSid => {
                id::C_BAD_STREAMID
            }
            SsidS1Off | SsidNotSupported | SsidCdMax0 | SsidRange | L1cdV | L1cdL2Ptr => {
                id::C_BAD_SUBSTREAMID
            }
            DssTerminate | DssSsid0 => id::F_STREAM_DISABLED,
            CdV | CdS1Stalld | CdA | CdSNoStall | CdSForced | CdEndiLe | CdEndiBe | CdAa32
            | CdAa64Ttf | CdAa64S2Aa32 | CdHa | CdHd | CdHaft | CdAsid | CdT0szMin | CdT0szMax
            | CdT1szMin | CdT1szMax | CdTg0 | CdTg1 | CdTtb0Ips | CdTtb0_48 | CdTtb1Ips
            | CdTtb1_48 | ModelCdAa32 | ModelCdBigEndian => id::C_BAD_CD,
            _ => id::C_BAD_STE,
        }
    }
}

/// The Exception level of a stream's StreamWorld (§3.3.3, §5.2 STRW). Combined with the
/// interface it was fetched from it names the StreamWorld: `El1` is NS-EL1, Secure or Realm-EL1;
/// `El2` is NS-EL2, S-EL2 or Realm-EL2; `El2E2h` the E2H variants; `El3` is Secure EL3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamWorld {
    El1,
    El2,
    El2E2h,
    El3,
}

impl StreamWorld {
    /// any-EL2 (not E2H) or EL3: one translation table (TTB0), no ASID, EPDx IGNORED.
    pub fn single_table(self) -> bool {
        matches!(self, StreamWorld::El2 | StreamWorld::El3)
    }

    /// StreamWorlds whose translations are tagged with an ASID.
    pub fn has_asid(self) -> bool {
        matches!(self, StreamWorld::El1 | StreamWorld::El2E2h)
    }
}

/// Layout of the CD table an STE points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CdTableFmt {
    /// One CD, or a linear table of 2^S1CDMax CDs.
    Linear,
    /// L1CD table of pointers to leaf tables of 2^`leaf_shift` CDs (6: 4 KiB, 10: 64 KiB).
    TwoLevel { leaf_shift: u32 },
}

/// STE.S1DSS: what a transaction without a SubstreamID does when substreams are enabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum S1Dss {
    /// Terminate with F_STREAM_DISABLED (0b00, and the reserved 0b11).
    Terminate,
    /// Bypass stage 1 (0b01).
    Bypass,
    /// Use CD 0; SubstreamID 0 becomes unavailable (0b10).
    Substream0,
}

/// Stage-1 fields of a validated STE (stage 1 enabled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct S1Ste {
    /// STE.S1ContextPtr as an address (an IPA when stage 2 is enabled).
    pub ctx_ptr: u64,
    pub fmt: CdTableFmt,
    /// Effective S1CDMax: 0 when substreams are disabled or unsupported.
    pub cdmax: u32,
    pub dss: S1Dss,
    pub stalld: bool,
}

/// STE.PRIVCFG / INSTCFG overrides (`None`: use the incoming attribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct AttrOverride {
    pub privileged: Option<bool>,
    pub instruction: Option<bool>,
    /// STE.NSCFG of a Secure or Realm stream: `Some(true)` forces Non-secure, `Some(false)` the
    /// stream's own PAS, `None` uses the incoming NS attribute (IGNORED for Non-secure STEs).
    pub ns: Option<bool>,
}

impl AttrOverride {
    /// The post-override PnU and InD of a transaction. INSTCFG only affects reads, and writes are
    /// always Data (§5.2 INSTCFG, §7.3.13 "InD == 0 when RnW == 0").
    pub fn apply(self, txn: &Txn) -> walk::Access {
        walk::Access {
            rnw: txn.rnw,
            pnu: self.privileged.unwrap_or(txn.pnu),
            ind: txn.rnw && self.instruction.unwrap_or(txn.ind),
        }
    }
}

/// A translating STE (Config 0b101, 0b110 or 0b111).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TransCfg {
    pub s1: Option<S1Ste>,
    pub s2: Option<S2Cfg>,
    /// STE.S2AA64 == 0 with stage 2 enabled (VMSAv8-32 LPAE stage 2); affects CD legality.
    pub s2_aa32: bool,
    pub world: StreamWorld,
    /// VMID tag (STE.S2VMID when not IGNORED, else 0).
    pub vmid: u16,
    pub attrs: AttrOverride,
    /// STE.MEV: events of this stream may be merged.
    pub mev: bool,
}

/// A validated STE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamCfg {
    /// Config 0b000 and the reserved 0b0xx: abort without an event.
    Abort,
    /// Config 0b100: both stages bypass.
    Bypass {
        attrs: AttrOverride,
    },
    Translate(TransCfg),
}

/// Why a Stream table walk did not produce an STE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SteFetchError {
    /// The StreamID does not select an STE (C_BAD_STREAMID).
    BadStreamId(Rule),
    /// The fetch of an L1STD or STE failed at this PA (F_STE_FETCH).
    Fetch(u64),
}

/// Architecture minor revision (0 = SMMUv3.0).
fn arch_minor(cfg: &SmmuConfig) -> u32 {
    Aidr(cfg.aidr).arch_minor_rev()
}

/// Clears address bits `[msb:0]` (a no-op for msb < 0; everything for msb >= 63).
pub(crate) fn align_down(addr: u64, msb: i64) -> u64 {
    if msb < 0 {
        addr
    } else if msb >= 63 {
        0
    } else {
        addr & !genmask(msb as u32, 0)
    }
}

/// Effective output size of a stage: an IPS / S2PS encoding capped to the OAS (§5.2 S2PS,
/// §5.4 IPS). Reserved encodings behave as the spec says for the advertised revision.
pub(crate) fn eff_ps(cfg: &SmmuConfig, enc: u64) -> u32 {
    let minor = arch_minor(cfg);
    let bits = match enc {
        6 if minor == 0 => 48,
        7 if minor == 0 => 48,
        7 if minor < 4 => 52,
        7 => 56,
        e => pa_bits(e).unwrap_or(48),
    };
    bits.min(cfg.oas_bits())
}

/// IAS: the largest IPA (§3.4): 40 with VMSAv8-32 LPAE support, the OAS with VMSAv8-64.
pub(crate) fn ias_bits(cfg: &SmmuConfig) -> u32 {
    let ttf = cfg.idr0().ttf();
    let a32 = if ttf & ttf::AARCH32 != 0 { 40 } else { 0 };
    let a64 = if ttf & ttf::AARCH64 != 0 { cfg.oas_bits() } else { 0 };
    match a32.max(a64) {
        0 => cfg.oas_bits(),
        n => n,
    }
}

/// Decodes a TG0 / S2TG encoding to a granule the SMMU supports (IDR5), or `None`.
pub(crate) fn tg0_granule(cfg: &SmmuConfig, enc: u64) -> Option<Granule> {
    let g = match enc {
        s2tg::G4K => Granule::G4K,
        s2tg::G64K => Granule::G64K,
        s2tg::G16K => Granule::G16K,
        _ => return None,
    };
    granule_supported(cfg, g).then_some(g)
}

pub(crate) fn granule_supported(cfg: &SmmuConfig, g: Granule) -> bool {
    let i5 = cfg.idr5();
    match g {
        Granule::G4K => i5.gran4k(),
        Granule::G16K => i5.gran16k(),
        Granule::G64K => i5.gran64k(),
    }
}

/// The StreamID size of an interface.
fn sidsize(cfg: &SmmuConfig, sec: SecSid) -> u32 {
    match sec {
        SecSid::Secure => cfg.s_idr1().s_sidsize(),
        SecSid::NonSecure | SecSid::Realm => cfg.idr1().sidsize(),
    }
}

impl Smmu {
    /// Walks the Stream table of `sec` for `sid` and fetches the STE (§5.1, §6.3.24-25).
    pub(crate) fn fetch_ste<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &self,
        sec: SecSid,
        sid: u32,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<Ste, SteFetchError> {
        let b = &self.banks[sec.index()];
        let cfgr = b.strtab_base_cfg();
        let log2size = cfgr.log2size();
        let eff_log2size = log2size.min(sidsize(&self.cfg, sec));
        if !fits(u64::from(sid), eff_log2size) {
            return Err(SteFetchError::BadStreamId(Rule::SidRange));
        }
        let pas = sec.pas();
        let oas = self.cfg.oas_bits();
        let base = addr_55_6(StrtabBase(b.strtab_base).addr());
        let two_level = self.cfg.idr0().st_level() != 0 && cfgr.fmt() == strtab_fmt::TWO_LEVEL;
        let ste_addr = if !two_level {
            // Linear: ADDR[LOG2SIZE + 5:0] = 0, with the literal LOG2SIZE (§6.3.24).
            let base = align_down(base, i64::from(log2size) + 5);
            base + (u64::from(sid) << STE_SHIFT)
        } else {
            let split = if STRTAB_SPLIT_VALID.contains(&cfgr.split()) {
                cfgr.split()
            } else {
                STRTAB_SPLIT_DEFAULT
            };
            // ADDR[MAX(5, LOG2SIZE - SPLIT - 1 + 3):0] = 0.
            let msb = (i64::from(log2size) - i64::from(split) + 2).max(5);
            let l1_addr = align_down(base, msb) + (u64::from(sid) >> split) * L1STD_SIZE;
            let l1: L1Std = fetch(mem, l1_addr, pas, oas).map_err(SteFetchError::Fetch)?;
            trace::emit(trace, || TraceEvent::Fetch {
                kind: FetchKind::L1Std,
                index: sid,
                addr: l1_addr,
                pas,
                raw: l1.to_words().to_vec(),
            });
            let lb = l1.bits();
            let span = lb.span();
            if span == 0 {
                return Err(SteFetchError::BadStreamId(Rule::L1stdSpan0));
            }
            if span >= L1STD_SPAN_RESERVED_MIN {
                return Err(SteFetchError::BadStreamId(Rule::L1stdSpanReserved));
            }
            if span > u64::from(split) + 1 {
                return Err(SteFetchError::BadStreamId(Rule::L1stdSpanSplit));
            }
            let low = u64::from(sid) & genmask(split - 1, 0);
            if low >= 1 << (span - 1) {
                return Err(SteFetchError::BadStreamId(Rule::L1stdSpanSid));
            }
            // L2Ptr[5 + (Span - 1):0] are treated as zero (§5.1).
            let l2 = align_down(addr_55_6(lb.l2ptr()), 5 + span as i64 - 1);
            l2 + (low << STE_SHIFT)
        };
        let ste: Ste = fetch(mem, ste_addr, pas, oas).map_err(SteFetchError::Fetch)?;
        trace::emit(trace, || TraceEvent::Fetch {
            kind: FetchKind::Ste,
            index: sid,
            addr: ste_addr,
            pas,
            raw: ste.to_words().to_vec(),
        });
        Ok(ste)
    }
}

/// Reads a configuration structure at a PA. Addresses beyond the OAS fail as F_*_FETCH (one of
/// the behaviours §3.4.3 permits). The error is the fetch address.
pub(crate) fn fetch<T: zerocopy::FromBytes + zerocopy::IntoBytes, M: PhysMem + ?Sized>(
    mem: &mut M,
    pa: u64,
    pas: Pas,
    oas: u32,
) -> Result<T, u64> {
    let end = pa.checked_add(core::mem::size_of::<T>() as u64 - 1).ok_or(pa)?;
    if !fits(end, oas) {
        return Err(pa);
    }
    read_obj(mem, pa, pas).map_err(|_| pa)
}

/// Validates an STE fetched from the Stream table of `sec` (§5.2.2 `SteIllegal()`), and decodes
/// it. `cfg` is the configuration as that interface sees it (its SMMU_IDR0.STALL_MODEL), `e2h`
/// its CR2.E2H.
pub fn decode_ste(cfg: &SmmuConfig, sec: SecSid, e2h: bool, ste: &Ste) -> Result<StreamCfg, Rule> {
    let b = ste.bits();
    if !b.v() {
        return Err(Rule::SteV);
    }
    let conf = b.config();
    if conf & config::TRANSLATE_BIT == 0 {
        return Ok(StreamCfg::Abort);
    }
    let idr0 = cfg.idr0();
    let idr3 = cfg.idr3();
    let idr5 = cfg.idr5();
    let s1_en = conf & config::S1_BIT != 0;
    let s2_en = conf & config::S2_BIT != 0;
    let vmsa32 = !b.s2aa64();
    let attrs = decode_attrs(cfg, sec, ste);
    if s1_en && !idr0.s1p() {
        return Err(Rule::SteCfgS1p);
    }
    if s2_en {
        if !idr0.s2p() {
            return Err(Rule::SteCfgS2p);
        }
        if sec == SecSid::Secure && !cfg.s_idr1().sel2() {
            return Err(Rule::SteCfgSel2);
        }
        if vmsa32 && sec != SecSid::NonSecure {
            return Err(Rule::SteS2Aa32Secure);
        }
    }
    if conf == config::BYPASS {
        return Ok(StreamCfg::Bypass { attrs });
    }
    // StreamWorld (§5.2 STRW, `IgnoreSTESTRW()`).
    let strw = b.strw();
    let strw_unused = !idr0.s1p() || (sec == SecSid::NonSecure && !idr0.hyp()) || s2_en;
    // ATS (§5.2 EATS): IGNORED without IDR0.ATS, and for Secure STEs.
    if sec != SecSid::Secure && idr0.ats() {
        let e = b.eats();
        if e == eats::SPLIT && (conf != config::NESTED || b.s2s() || idr0.ns1ats()) {
            return Err(Rule::SteEatsSplit);
        }
        let full = e == eats::FULL || (e == eats::FULL_DPT && idr3.dpt());
        if full && s2_en && b.s2s() {
            return Err(Rule::SteEatsFullS2s);
        }
        if e == eats::FULL_DPT && idr3.dpt() && !strw_unused && strw != ste::strw::EL1 {
            return Err(Rule::SteEatsDptStrw);
        }
    }
    if sec != SecSid::Secure && !strw_unused && strw & ste::strw::RESERVED_BIT != 0 {
        return Err(Rule::SteStrwReserved);
    }
    if sec == SecSid::Secure && !strw_unused {
        if strw == ste::strw::SECURE_RESERVED {
            return Err(Rule::SteStrwSecureReserved);
        }
        if strw == ste::strw::EL3 && idr0.rme_impl() {
            return Err(Rule::SteStrwSecureEl3);
        }
    }
    if sec == SecSid::Secure
        && !cfg.s_idr1().sel2()
        && strw == ste::strw::EL2
        && conf == config::S1_TRANS
    {
        return Err(Rule::SteStrwSecureSel2);
    }
    let world = match strw {
        _ if strw_unused => StreamWorld::El1,
        ste::strw::EL1 => StreamWorld::El1,
        ste::strw::EL3 => StreamWorld::El3,
        _ if e2h => StreamWorld::El2E2h,
        _ => StreamWorld::El2,
    };
    let stall = idr0.stall_model();
    let ias = ias_bits(cfg);
    let oas = cfg.oas_bits();
    let s1 = if s1_en {
        if b.s1stalld() && stall != stall_model::STALL_AND_TERMINATE {
            return Err(Rule::SteS1Stalld);
        }
        let ssidsize = u64::from(cfg.idr1().ssidsize());
        if ssidsize != 0 && b.s1cdmax() > ssidsize {
            return Err(Rule::SteS1CdMax);
        }
        let cdmax = if ssidsize == 0 { 0 } else { b.s1cdmax() as u32 };
        let two_level = matches!(b.s1fmt(), s1fmt::TWO_LEVEL_4K | s1fmt::TWO_LEVEL_64K);
        if cdmax != 0 && !idr0.cd2l() && two_level {
            return Err(Rule::SteS1FmtCd2l);
        }
        let ctx_ptr = addr_55_6(b.s1_context_ptr());
        if !fits(ctx_ptr, if s2_en { ias } else { oas }) {
            return Err(Rule::SteS1CtxPtr);
        }
        let fmt = match b.s1fmt() {
            _ if cdmax == 0 => CdTableFmt::Linear,
            s1fmt::TWO_LEVEL_4K => CdTableFmt::TwoLevel { leaf_shift: CD_LEAF_4K_SHIFT },
            s1fmt::TWO_LEVEL_64K => CdTableFmt::TwoLevel { leaf_shift: CD_LEAF_64K_SHIFT },
            _ => CdTableFmt::Linear,
        };
        let dss = match b.s1dss() {
            s1dss::BYPASS => S1Dss::Bypass,
            s1dss::SSID0 => S1Dss::Substream0,
            _ => S1Dss::Terminate,
        };
        Some(S1Ste { ctx_ptr, fmt, cdmax, dss, stalld: b.s1stalld() })
    } else {
        None
    };
    let s2 = if s2_en {
        if vmsa32 && idr3.fwb() && b.s2fwb() {
            return Err(Rule::SteS2FwbAa32);
        }
        if b.s2s() && stall == stall_model::TERMINATE_ONLY {
            return Err(Rule::SteS2sNoStall);
        }
        if !b.s2s() && stall == stall_model::STALL_FORCED {
            return Err(Rule::SteS2sForced);
        }
        let ttf = idr0.ttf();
        if vmsa32 && ttf & ttf::AARCH32 == 0 {
            return Err(Rule::SteS2Aa32);
        }
        if !vmsa32 && ttf & ttf::AARCH64 == 0 {
            return Err(Rule::SteS2Aa64);
        }
        let h = idr0.httu();
        if (b.s2ha() || b.s2hd()) && (vmsa32 || h == httu::NONE) {
            return Err(Rule::SteS2Ha);
        }
        if b.s2hd() && h == httu::AF {
            return Err(Rule::SteS2Hd);
        }
        if b.s2haft() && !b.s2ha() && h == httu::AF_DIRTY_HAFT {
            return Err(Rule::SteS2Haft);
        }
        if vmsa32 {
            return Err(Rule::ModelS2Aa32);
        }
        let granule = tg0_granule(cfg, b.s2tg()).ok_or(Rule::SteS2Tg)?;
        let ds = idr5.ds() && b.s2ds() && granule != Granule::G64K;
        let ps_bits = eff_ps(cfg, b.s2ps());
        let ttb = addr_55_4(b.s2ttb());
        if !fits(ttb, ps_bits) {
            return Err(Rule::SteS2TtbPs);
        }
        if granule != Granule::G64K && !ds && !fits(ttb, 48) {
            return Err(Rule::SteS2Ttb48);
        }
        let t0sz = b.s2t0sz() as u32;
        let (min, max) = s2t0sz_range(cfg, granule, ds, ias);
        if t0sz < min {
            return Err(Rule::SteS2T0szMin);
        }
        if t0sz > max {
            return Err(Rule::SteS2T0szMax);
        }
        let mut sl0 = b.s2sl0() as u32;
        if ds && granule == Granule::G4K && b.s2sl0_2() {
            sl0 |= 0b100;
        }
        let s2 = S2Cfg {
            ttb,
            t0sz,
            sl0,
            granule,
            ps_bits,
            affd: b.s2affd(),
            // A stalling configuration is treated as terminating, with the event recorded (§3.12).
            record: b.s2r() || b.s2s(),
            vmid: b.s2vmid() as u16,
            xnx: idr3.xnx(),
            walk_pas: sec.pas(),
            out_pas: sec.pas(),
        };
        if walk::s2_start(&s2).is_none() {
            return Err(Rule::SteS2Sl0);
        }
        let te = idr0.ttendian();
        if te == ttendian::LITTLE && b.s2endi() {
            return Err(Rule::SteS2EndiLe);
        }
        if te == ttendian::BIG && !b.s2endi() {
            return Err(Rule::SteS2EndiBe);
        }
        if b.s2endi() {
            return Err(Rule::ModelS2BigEndian);
        }
        Some(s2)
    } else {
        None
    };
    // S2VMID (`IgnoreSTES2VMID()`): used for NS-EL1 when stage 2 is implemented.
    let vmid_ignored = (sec == SecSid::NonSecure && !idr0.s2p())
        || (sec == SecSid::Secure && !cfg.s_idr1().sel2())
        || world != StreamWorld::El1
        || (sec == SecSid::Secure && conf == config::S1_TRANS);
    if !vmid_ignored && !idr0.vmid16() && b.s2vmid() >> 8 != 0 {
        return Err(Rule::SteS2Vmid);
    }
    Ok(StreamCfg::Translate(TransCfg {
        s1,
        s2,
        s2_aa32: s2_en && vmsa32,
        world,
        vmid: if vmid_ignored { 0 } else { b.s2vmid() as u16 },
        attrs,
        mev: b.mev(),
    }))
}

/// The valid S2T0SZ range `(min, max)` (§5.2 S2T0SZ, `STES2T0SZInvalid()`).
fn s2t0sz_range(cfg: &SmmuConfig, g: Granule, ds: bool, ias: u32) -> (u32, u32) {
    let stt = cfg.idr3().stt();
    let max = match (stt, g) {
        (false, _) => 39,
        (true, Granule::G64K) => 47,
        (true, _) => 48,
    };
    let floor = 64u32.saturating_sub(ias);
    let min = if arch_minor(cfg) == 0 {
        floor
    } else if g == Granule::G64K || ds {
        floor.max(12)
    } else {
        floor.max(16)
    };
    (min, max)
}

/// STE.NSCFG of a Secure or Realm stream (§5.2; IGNORED for Non-secure streams). 0b01 is
/// Reserved for Secure STEs and "check incoming" for Realm STEs with R_IDR3.XT: both use the
/// incoming attribute here.
fn decode_nscfg(sec: SecSid, ste: &Ste) -> Option<bool> {
    if sec == SecSid::NonSecure {
        return None;
    }
    match ste.bits().nscfg() {
        nscfg::SECURE_OR_REALM => Some(false),
        nscfg::NON_SECURE => Some(true),
        _ => None,
    }
}

/// STE.PRIVCFG / INSTCFG, honoured when IDR1.ATTR_PERMS_OVR (otherwise RES0), and NSCFG.
fn decode_attrs(cfg: &SmmuConfig, sec: SecSid, ste: &Ste) -> AttrOverride {
    let ns = decode_nscfg(sec, ste);
    if !cfg.idr1().attr_perms_ovr() {
        return AttrOverride { ns, ..AttrOverride::default() };
    }
    let b = ste.bits();
    AttrOverride {
        ns,
        privileged: match b.privcfg() {
            privcfg::UNPRIV_OR_DATA => Some(false),
            privcfg::PRIV_OR_INST => Some(true),
            _ => None,
        },
        instruction: match b.instcfg() {
            privcfg::UNPRIV_OR_DATA => Some(false),
            privcfg::PRIV_OR_INST => Some(true),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::write_obj;
    use crate::trace::NoTrace;
    use crate::translate::rig::*;

    fn fetch_ste_addr(r: &mut Rig, sid: u32) -> Result<u64, SteFetchError> {
        r.trace.events.clear();
        let smmu = &r.smmu;
        smmu.fetch_ste(SecSid::NonSecure, sid, &mut r.mem, &mut r.trace)?;
        Ok(r.trace
            .events
            .iter()
            .find_map(|e| match e {
                TraceEvent::Fetch { kind: FetchKind::Ste, addr, .. } => Some(*addr),
                _ => None,
            })
            .unwrap())
    }

    #[test]
    fn linear_table_base_ignores_bits_below_table_size() {
        let mut r = Rig::qemu();
        r.smmu.bank_mut(SecSid::NonSecure).strtab_base = STRTAB | 0x7c0;
        assert_eq!(fetch_ste_addr(&mut r, 3), Ok(STRTAB + 3 * 64));
    }

    #[test]
    fn two_level_l2_pointer_is_aligned_to_its_span() {
        let mut r = Rig::qemu();
        let b = r.smmu.bank_mut(SecSid::NonSecure);
        b.strtab_base = 0x4e20_0000;
        b.strtab_base_cfg = two_level_cfg(8, 12);
        // SID 0x105: L1STD 1; Span 4 (8 STEs, 512 bytes): L2Ptr bits [8:6] are ignored.
        r.write_u64(0x4e20_0008, 0x4e21_01c0 | 4);
        assert_eq!(fetch_ste_addr(&mut r, 0x105), Ok(0x4e21_0000 + 5 * 64));
    }

    #[test]
    fn reserved_split_behaves_as_6() {
        let mut r = Rig::qemu();
        let b = r.smmu.bank_mut(SecSid::NonSecure);
        b.strtab_base = 0x4e20_0000;
        b.strtab_base_cfg = two_level_cfg(7, 12);
        // SID 0x45 with SPLIT 6: L1STD 1, STE 5.
        r.write_u64(0x4e20_0008, 0x4e21_0000 | 7);
        assert_eq!(fetch_ste_addr(&mut r, 0x45), Ok(0x4e21_0000 + 5 * 64));
    }

    #[test]
    fn two_level_format_is_ignored_without_st_level() {
        let mut cfg = SmmuConfig::qemu_virt();
        let mut i0 = cfg.idr0();
        i0.set_st_level(0);
        cfg.idr0 = i0.0;
        let mut r = Rig::new(cfg);
        r.smmu.bank_mut(SecSid::NonSecure).strtab_base_cfg = two_level_cfg(6, 5);
        assert_eq!(fetch_ste_addr(&mut r, 3), Ok(STRTAB + 3 * 64));
    }

    #[test]
    fn two_level_l1_base_is_aligned_to_l1_table_size() {
        let mut r = Rig::qemu();
        let b = r.smmu.bank_mut(SecSid::NonSecure);
        // LOG2SIZE 16, SPLIT 6: 1024 L1STDs, 8 KiB: ADDR[12:0] ignored.
        b.strtab_base = 0x4e20_1fc0;
        b.strtab_base_cfg = two_level_cfg(6, 16);
        r.write_u64(0x4e20_0008, 0x4e21_0000 | 7);
        assert_eq!(fetch_ste_addr(&mut r, 0x45), Ok(0x4e21_0000 + 5 * 64));
    }

    #[test]
    fn huge_log2size_does_not_overflow() {
        let mut r = Rig::qemu();
        r.smmu.bank_mut(SecSid::NonSecure).strtab_base_cfg = linear_cfg(63);
        // LOG2SIZE 63 is capped at SIDSIZE 16 for the range check; the base is aligned to zero.
        assert_eq!(fetch_ste_addr(&mut r, 3), Err(SteFetchError::Fetch(3 * 64)));
        r.smmu.bank_mut(SecSid::NonSecure).strtab_base_cfg = two_level_cfg(10, 63);
        // SID 0xffff, SPLIT 10: L1STD 63 of a table aligned to zero.
        let out = r.smmu.fetch_ste(SecSid::NonSecure, 0xffff, &mut r.mem, &mut NoTrace);
        assert_eq!(out, Err(SteFetchError::Fetch(63 * 8)));
    }

    #[test]
    fn effective_ps_caps_at_oas_and_follows_revision() {
        let mut cfg = SmmuConfig::qemu_virt();
        assert_eq!(eff_ps(&cfg, 5), 44);
        assert_eq!(eff_ps(&cfg, 2), 40);
        let mut i5 = cfg.idr5();
        i5.set_oas(6); // 52 bits
        cfg.idr5 = i5.0;
        assert_eq!(eff_ps(&cfg, 6), 52);
        assert_eq!(eff_ps(&cfg, 7), 52);
        cfg.aidr = 0; // SMMUv3.0: 0b110 and 0b111 behave as 48 bits
        assert_eq!(eff_ps(&cfg, 6), 48);
        assert_eq!(eff_ps(&cfg, 7), 48);
    }

    #[test]
    fn ias_is_40_bits_with_aarch32_support_and_small_oas() {
        let mut cfg = SmmuConfig::qemu_virt();
        let mut i5 = cfg.idr5();
        i5.set_oas(0); // 32 bits
        cfg.idr5 = i5.0;
        assert_eq!(ias_bits(&cfg), 32);
        let mut i0 = cfg.idr0();
        i0.set_ttf(ttf::BOTH);
        cfg.idr0 = i0.0;
        assert_eq!(ias_bits(&cfg), 40);
    }

    #[test]
    fn stage2_config_carries_ste_fields() {
        let mut ste = ste_s2(0x4e4d_0000);
        ste.bits_mut().set_s2vmid(0x1234);
        ste.bits_mut().set_s2affd(true);
        let Ok(StreamCfg::Translate(t)) =
            decode_ste(&SmmuConfig::qemu_virt(), SecSid::NonSecure, false, &ste)
        else {
            panic!("valid stage-2 STE rejected");
        };
        let s2 = t.s2.unwrap();
        assert_eq!((s2.ttb, s2.t0sz, s2.sl0, s2.granule), (0x4e4d_0000, 20, 2, Granule::G4K));
        assert_eq!((s2.ps_bits, s2.vmid, s2.affd, s2.record), (44, 0x1234, true, true));
        assert!(s2.xnx);
        assert_eq!((s2.walk_pas, s2.out_pas), (Pas::NonSecure, Pas::NonSecure));
        assert_eq!(t.vmid, 0x1234);
    }

    #[test]
    fn hyp_with_strw_el2_and_e2h_selects_el2_e2h() {
        let mut cfg = SmmuConfig::qemu_virt();
        let mut i0 = cfg.idr0();
        i0.set_hyp(true);
        cfg.idr0 = i0.0;
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_strw(ste::strw::EL2);
        let world = |e2h| match decode_ste(&cfg, SecSid::NonSecure, e2h, &ste) {
            Ok(StreamCfg::Translate(t)) => t.world,
            other => panic!("{other:?}"),
        };
        assert_eq!(world(false), StreamWorld::El2);
        assert_eq!(world(true), StreamWorld::El2E2h);
    }

    #[test]
    fn ste_write_in_secure_table_is_read_in_secure_pas() {
        let mut cfg = SmmuConfig::qemu_virt();
        cfg.secure_impl = true;
        let mut r = Rig::new(cfg);
        let b = r.smmu.bank_mut(SecSid::Secure);
        b.strtab_base = 0x4f00_0000;
        b.strtab_base_cfg = linear_cfg(5);
        write_obj(&mut r.mem, 0x4f00_0000 + 64, Pas::Secure, &ste_s1(CD_ADDR)).unwrap();
        r.smmu.fetch_ste(SecSid::Secure, 1, &mut r.mem, &mut r.trace).unwrap();
        assert!(r.trace.events.iter().any(|e| matches!(
            e,
            TraceEvent::Fetch { kind: FetchKind::Ste, pas: Pas::Secure, addr: 0x4f00_0040, .. }
        )));
    }
}

//! `SmmuConfig`: every ID register value and every IMPLEMENTATION DEFINED choice.
//!
//! ID registers advertise only what is implemented, and what they advertise is honoured.

use crate::spec::regs::{Idr0, Idr1, Idr3, Idr5, SIdr1};

/// How the configuration cache and TLB keep entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CachePolicy {
    /// Cache, and drop entries when invalidated (or when capacity requires). A cached entry
    /// whose permissions deny an access is walked again.
    #[default]
    Normal,
    /// Never cache: every translation walks.
    Never,
    /// Keep every entry until an invalidation covers it (exposes missing TLBIs). A cached
    /// entry whose permissions deny an access gives the Permission fault it implies without a
    /// walk (exposes a permission upgrade without TLBI).
    Sticky,
}

impl CachePolicy {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "normal" => CachePolicy::Normal,
            "never" => CachePolicy::Never,
            "sticky" => CachePolicy::Sticky,
            _ => return None,
        })
    }
}

/// Which ID-register preset a configuration started from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Preset {
    /// QEMU 11.0 `virt` ID values, so QEMU's command lines get byte-identical replies.
    #[default]
    QemuVirt,
    /// Everything the model implements.
    Full,
}

impl Preset {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "qemu-virt" => Preset::QemuVirt,
            "full" => Preset::Full,
            _ => return None,
        })
    }
}

/// The model's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmmuConfig {
    pub preset: Preset,
    pub idr0: u32,
    pub idr1: u32,
    pub idr2: u32,
    pub idr3: u32,
    pub idr4: u32,
    pub idr5: u32,
    pub iidr: u32,
    pub aidr: u32,
    /// SMMU_S_IDR1 (SECURE_IMPL, SEL2, S_SIDSIZE); meaningful when `secure_impl`.
    pub s_idr1: u32,
    /// The Secure programming interface exists.
    pub secure_impl: bool,
    /// At reset the machine plays Root firmware (ROOT_CR0.ACCESSEN=1, GPCEN=0).
    pub root_firmware: bool,
    /// Offset of the Root control page from the SMMU base.
    pub root_offset: u64,
    /// SMMU_ROOT_IDR0.BA_REALM: Realm pages at 0x20000 + BA_REALM * 64 KiB.
    pub ba_realm: u32,
    pub cache_policy: CachePolicy,
    /// Page-1 registers (EVENTQ/PRIQ PROD/CONS) also answer at their page-0 offsets.
    pub page0_alias: bool,
    /// Merge identical event records of streams whose STE has MEV=1 (and the records found
    /// before an STE is located), as `eventq` documents.
    pub mev_merge: bool,
}

impl Default for SmmuConfig {
    fn default() -> Self {
        Self::qemu_virt()
    }
}

impl SmmuConfig {
    /// QEMU 11.0 `virt` (stage=nested) ID register values.
    pub fn qemu_virt() -> Self {
        SmmuConfig {
            preset: Preset::QemuVirt,
            idr0: 0x0d44_101b,
            idr1: 0x0273_0010,
            idr2: 0,
            idr3: 0x1414,
            idr4: 0,
            idr5: 0x74,
            iidr: 0,
            aidr: 1,
            s_idr1: 0x10,
            secure_impl: false,
            root_firmware: true,
            root_offset: 0x20000,
            ba_realm: 2,
            cache_policy: CachePolicy::Normal,
            page0_alias: true,
            mev_merge: false,
        }
    }

    /// Everything the model implements.
    pub fn full() -> Self {
        SmmuConfig {
            preset: Preset::Full,
            // qemu-virt plus MSI, CD2L and Hyp (the NS-EL2 and NS-EL2-E2H StreamWorlds).
            idr0: 0x0d4c_321b,
            // SSIDSIZE 20 on top of qemu-virt.
            idr1: 0x0273_0510,
            idr3: 0x1414,
            // OAS 48 bits, all granules.
            idr5: 0x75,
            aidr: 2,
            s_idr1: 0x8000_0010,
            secure_impl: true,
            ..Self::qemu_virt()
        }
    }

    /// The same configuration without stage 2 (IDR0.S2P and, with it, IDR0.Hyp and IDR3.XNX
    /// cleared: Hyp is RES0 without both stages, §6.3.1).
    pub fn without_stage2(mut self) -> Self {
        let mut i = self.idr0();
        i.set_s2p(false);
        i.set_hyp(false);
        self.idr0 = i.0;
        let mut i3 = self.idr3();
        i3.set_xnx(false);
        self.idr3 = i3.0;
        self
    }

    /// The same configuration without stage 1 (IDR0.S1P and, with it, IDR0.Hyp cleared).
    pub fn without_stage1(mut self) -> Self {
        let mut i = self.idr0();
        i.set_s1p(false);
        i.set_hyp(false);
        self.idr0 = i.0;
        self
    }

    pub fn idr0(&self) -> Idr0 {
        Idr0(self.idr0)
    }
    pub fn idr1(&self) -> Idr1 {
        Idr1(self.idr1)
    }
    pub fn idr3(&self) -> Idr3 {
        Idr3(self.idr3)
    }
    pub fn idr5(&self) -> Idr5 {
        Idr5(self.idr5)
    }
    pub fn s_idr1(&self) -> SIdr1 {
        let v = SIdr1(self.s_idr1);
        let mut v2 = v;
        v2.set_secure_impl(self.secure_impl);
        v2
    }

    /// Output address size in bits (IDR5.OAS).
    pub fn oas_bits(&self) -> u32 {
        crate::spec::regs::pa_bits(self.idr5().oas() as u64).unwrap_or(48)
    }

    /// The address bits below the OAS: addresses the SMMU emits beyond the OAS (queue entries,
    /// MSIs, bypassed IPAs) are truncated with this mask (§3.4.3).
    pub fn oas_mask(&self) -> u64 {
        crate::spec::genmask(self.oas_bits() - 1, 0)
    }

    /// Offset of Realm page 0 from the SMMU base.
    pub fn realm_offset(&self) -> u64 {
        0x20000 + u64::from(self.ba_realm) * 0x10000
    }

    /// Checks the IMPLEMENTATION DEFINED choices for consistency.
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=1023).contains(&self.ba_realm) {
            return Err(format!("ba-realm={} is outside 2..1023", self.ba_realm));
        }
        if !self.root_offset.is_multiple_of(0x10000) || self.root_offset < 0x20000 {
            return Err(format!(
                "root-offset={:#x} must be 64 KiB aligned and at least 0x20000",
                self.root_offset
            ));
        }
        let realm = self.realm_offset();
        if self.root_offset < realm + 0x20000 && realm < self.root_offset + 0x10000 {
            return Err(format!(
                "ba-realm={} puts the Realm pages ({:#x}) over the Root page ({:#x})",
                self.ba_realm, realm, self.root_offset
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_virt_idr0_decodes_as_qemu_documents() {
        let c = SmmuConfig::qemu_virt();
        let i = c.idr0();
        assert!(i.s1p() && i.s2p());
        assert_eq!(i.ttf(), 2);
        assert_eq!(i.stall_model(), 1);
        assert!(i.term_model());
        assert_eq!(i.st_level(), 1);
        assert!(!i.msi());
        assert_eq!(c.oas_bits(), 44);
    }

    #[test]
    fn full_idr0_is_qemu_virt_plus_msi_cd2l_and_hyp() {
        // MSI is bit 13, CD2L bit 19, Hyp bit 9 (IHI 0070 §6.3.1).
        let extra = (1 << 13) | (1 << 19) | (1 << 9);
        assert_eq!(SmmuConfig::full().idr0, SmmuConfig::qemu_virt().idr0 | extra);
        assert_eq!(SmmuConfig::full().idr0, 0x0d4c_321b);
    }

    #[test]
    fn removing_a_stage_removes_hyp() {
        // Hyp is RES0 when S1P == 0 or S2P == 0 (§6.3.1 SMMU_IDR0.Hyp).
        assert!(!SmmuConfig::full().without_stage1().idr0().hyp());
        assert!(!SmmuConfig::full().without_stage2().idr0().hyp());
        assert_eq!(SmmuConfig::full().without_stage2().idr0, 0x0d4c_301a);
    }

    #[test]
    fn qemu_virt_does_not_advertise_hyp() {
        assert!(!SmmuConfig::qemu_virt().idr0().hyp());
        assert_eq!(SmmuConfig::qemu_virt().idr0, 0x0d44_101b);
    }

    #[test]
    fn oas_mask_keeps_the_bits_below_idr5_oas() {
        // IDR5.OAS 0b100 (44 bits) in qemu-virt, 0b101 (48 bits) in full.
        assert_eq!(SmmuConfig::qemu_virt().oas_mask(), 0x0000_0fff_ffff_ffff);
        assert_eq!(SmmuConfig::full().oas_mask(), 0x0000_ffff_ffff_ffff);
    }

    #[test]
    fn default_realm_pages_sit_at_0x40000() {
        assert_eq!(SmmuConfig::qemu_virt().realm_offset(), 0x40000);
    }

    #[test]
    fn ba_realm_overlapping_root_page_is_rejected() {
        let c = SmmuConfig { ba_realm: 0, root_offset: 0x20000, ..SmmuConfig::qemu_virt() };
        assert!(c.validate().is_err());
        let c = SmmuConfig { ba_realm: 3, root_offset: 0x50000, ..SmmuConfig::qemu_virt() };
        assert!(c.validate().is_err());
    }
}

//! The register map: which register sits at which offset of which page.
//!
//! Offsets come from [`crate::spec::regs::off`]; this file only says which of them exist in
//! each page and what they are called there. Behaviour lives in `page0.rs`.

use crate::SecSid;
use crate::spec::regs::{ID_BLOCK_WORDS, off};

/// Offset of the last word of the ID block.
const ID_BLOCK_LAST: u64 = off::ID_BLOCK + 4 * (ID_BLOCK_WORDS.len() as u64 - 1);

/// A register of one programming interface, named as in IHI 0070 without the `SMMU_` /
/// `SMMU_S_` prefix (the interface says which).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Reg {
    Idr0,
    Idr1,
    Idr2,
    Idr3,
    Idr4,
    Idr5,
    Iidr,
    Aidr,
    Cr0,
    Cr0Ack,
    Cr1,
    Cr2,
    /// Secure only.
    Init,
    Statusr,
    Gbpa,
    Agbpa,
    IrqCtrl,
    IrqCtrlAck,
    Gerror,
    Gerrorn,
    GerrorIrqCfg0,
    GerrorIrqCfg1,
    GerrorIrqCfg2,
    StrtabBase,
    StrtabBaseCfg,
    CmdqBase,
    CmdqProd,
    CmdqCons,
    EventqBase,
    EventqProd,
    EventqCons,
    EventqIrqCfg0,
    EventqIrqCfg1,
    EventqIrqCfg2,
    PriqBase,
    PriqProd,
    PriqCons,
    PriqIrqCfg0,
    PriqIrqCfg1,
    PriqIrqCfg2,
    /// One word of the peripheral/component ID block (0xfd0 + 4 * n).
    IdBlock(u8),
}

/// Register names per interface, for traces: `[Non-secure, Secure]`.
macro_rules! names {
    ($($reg:ident => $ns:literal, $s:literal;)*) => {
        impl Reg {
            /// The register's spec name as seen from interface `sec`.
            pub(crate) fn name(self, sec: SecSid) -> &'static str {
                let secure = sec == SecSid::Secure;
                match self {
                    $(Reg::$reg => if secure { $s } else { $ns },)*
                    Reg::IdBlock(n) => ID_BLOCK_NAMES[usize::from(n) % ID_BLOCK_NAMES.len()],
                }
            }
        }
    };
}

names! {
    Idr0 => "IDR0", "S_IDR0";
    Idr1 => "IDR1", "S_IDR1";
    Idr2 => "IDR2", "S_IDR2";
    Idr3 => "IDR3", "S_IDR3";
    Idr4 => "IDR4", "S_IDR4";
    Idr5 => "IDR5", "S_IDR5";
    Iidr => "IIDR", "S_IIDR";
    Aidr => "AIDR", "S_AIDR";
    Cr0 => "CR0", "S_CR0";
    Cr0Ack => "CR0ACK", "S_CR0ACK";
    Cr1 => "CR1", "S_CR1";
    Cr2 => "CR2", "S_CR2";
    Init => "INIT", "S_INIT";
    Statusr => "STATUSR", "S_STATUSR";
    Gbpa => "GBPA", "S_GBPA";
    Agbpa => "AGBPA", "S_AGBPA";
    IrqCtrl => "IRQ_CTRL", "S_IRQ_CTRL";
    IrqCtrlAck => "IRQ_CTRLACK", "S_IRQ_CTRLACK";
    Gerror => "GERROR", "S_GERROR";
    Gerrorn => "GERRORN", "S_GERRORN";
    GerrorIrqCfg0 => "GERROR_IRQ_CFG0", "S_GERROR_IRQ_CFG0";
    GerrorIrqCfg1 => "GERROR_IRQ_CFG1", "S_GERROR_IRQ_CFG1";
    GerrorIrqCfg2 => "GERROR_IRQ_CFG2", "S_GERROR_IRQ_CFG2";
    StrtabBase => "STRTAB_BASE", "S_STRTAB_BASE";
    StrtabBaseCfg => "STRTAB_BASE_CFG", "S_STRTAB_BASE_CFG";
    CmdqBase => "CMDQ_BASE", "S_CMDQ_BASE";
    CmdqProd => "CMDQ_PROD", "S_CMDQ_PROD";
    CmdqCons => "CMDQ_CONS", "S_CMDQ_CONS";
    EventqBase => "EVENTQ_BASE", "S_EVENTQ_BASE";
    EventqProd => "EVENTQ_PROD", "S_EVENTQ_PROD";
    EventqCons => "EVENTQ_CONS", "S_EVENTQ_CONS";
    EventqIrqCfg0 => "EVENTQ_IRQ_CFG0", "S_EVENTQ_IRQ_CFG0";
    EventqIrqCfg1 => "EVENTQ_IRQ_CFG1", "S_EVENTQ_IRQ_CFG1";
    EventqIrqCfg2 => "EVENTQ_IRQ_CFG2", "S_EVENTQ_IRQ_CFG2";
    PriqBase => "PRIQ_BASE", "S_PRIQ_BASE";
    PriqProd => "PRIQ_PROD", "S_PRIQ_PROD";
    PriqCons => "PRIQ_CONS", "S_PRIQ_CONS";
    PriqIrqCfg0 => "PRIQ_IRQ_CFG0", "S_PRIQ_IRQ_CFG0";
    PriqIrqCfg1 => "PRIQ_IRQ_CFG1", "S_PRIQ_IRQ_CFG1";
    PriqIrqCfg2 => "PRIQ_IRQ_CFG2", "S_PRIQ_IRQ_CFG2";
}

const ID_BLOCK_NAMES: [&str; 12] = [
    "PIDR4", "PIDR5", "PIDR6", "PIDR7", "PIDR0", "PIDR1", "PIDR2", "PIDR3", "CIDR0", "CIDR1",
    "CIDR2", "CIDR3",
];

impl Reg {
    /// Whether the register is 64 bits wide (else 32).
    pub(crate) fn is_64(self) -> bool {
        matches!(
            self,
            Reg::GerrorIrqCfg0
                | Reg::StrtabBase
                | Reg::CmdqBase
                | Reg::EventqBase
                | Reg::EventqIrqCfg0
                | Reg::PriqBase
                | Reg::PriqIrqCfg0
        )
    }
}

/// The registers of the Non-secure page 0 by offset (the register's first byte). The page-1
/// registers EVENTQ/PRIQ PROD/CONS are not listed: their page-0 offsets are optional aliases,
/// see [`page1`].
pub(crate) fn ns_page0(offset: u64) -> Option<Reg> {
    Some(match offset {
        off::IDR0 => Reg::Idr0,
        off::IDR1 => Reg::Idr1,
        off::IDR2 => Reg::Idr2,
        off::IDR3 => Reg::Idr3,
        off::IDR4 => Reg::Idr4,
        off::IDR5 => Reg::Idr5,
        off::IIDR => Reg::Iidr,
        off::AIDR => Reg::Aidr,
        off::STATUSR => Reg::Statusr,
        off::ID_BLOCK..=ID_BLOCK_LAST => Reg::IdBlock(((offset - off::ID_BLOCK) / 4) as u8),
        _ => return common(offset),
    })
}

/// The Secure registers by offset relative to [`crate::spec::regs::S_OFFSET`].
pub(crate) fn s_page0(offset: u64) -> Option<Reg> {
    Some(match offset {
        off::IDR0 => Reg::Idr0,
        off::IDR1 => Reg::Idr1,
        off::IDR2 => Reg::Idr2,
        off::IDR3 => Reg::Idr3,
        off::IDR4 => Reg::Idr4,
        off::S_INIT => Reg::Init,
        // The Secure event queue's PROD/CONS live in page 0.
        off::EVENTQ_PROD => Reg::EventqProd,
        off::EVENTQ_CONS => Reg::EventqCons,
        off::PRIQ_BASE..=off::PRIQ_IRQ_CFG2 => return None,
        _ => return common(offset),
    })
}

/// The Non-secure registers of page 1 by offset relative to the page.
pub(crate) fn page1(offset: u64) -> Option<Reg> {
    Some(match offset {
        off::EVENTQ_PROD => Reg::EventqProd,
        off::EVENTQ_CONS => Reg::EventqCons,
        off::PRIQ_PROD => Reg::PriqProd,
        off::PRIQ_CONS => Reg::PriqCons,
        _ => return None,
    })
}

/// Registers at the same offset in the Non-secure page 0 and the Secure page.
fn common(offset: u64) -> Option<Reg> {
    Some(match offset {
        off::CR0 => Reg::Cr0,
        off::CR0ACK => Reg::Cr0Ack,
        off::CR1 => Reg::Cr1,
        off::CR2 => Reg::Cr2,
        off::GBPA => Reg::Gbpa,
        off::AGBPA => Reg::Agbpa,
        off::IRQ_CTRL => Reg::IrqCtrl,
        off::IRQ_CTRLACK => Reg::IrqCtrlAck,
        off::GERROR => Reg::Gerror,
        off::GERRORN => Reg::Gerrorn,
        off::GERROR_IRQ_CFG0 => Reg::GerrorIrqCfg0,
        off::GERROR_IRQ_CFG1 => Reg::GerrorIrqCfg1,
        off::GERROR_IRQ_CFG2 => Reg::GerrorIrqCfg2,
        off::STRTAB_BASE => Reg::StrtabBase,
        off::STRTAB_BASE_CFG => Reg::StrtabBaseCfg,
        off::CMDQ_BASE => Reg::CmdqBase,
        off::CMDQ_PROD => Reg::CmdqProd,
        off::CMDQ_CONS => Reg::CmdqCons,
        off::EVENTQ_BASE => Reg::EventqBase,
        off::EVENTQ_IRQ_CFG0 => Reg::EventqIrqCfg0,
        off::EVENTQ_IRQ_CFG1 => Reg::EventqIrqCfg1,
        off::EVENTQ_IRQ_CFG2 => Reg::EventqIrqCfg2,
        off::PRIQ_BASE => Reg::PriqBase,
        off::PRIQ_IRQ_CFG0 => Reg::PriqIrqCfg0,
        off::PRIQ_IRQ_CFG1 => Reg::PriqIrqCfg1,
        off::PRIQ_IRQ_CFG2 => Reg::PriqIrqCfg2,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ns_offsets_match_linux_arm_smmu_v3_h() {
        // ARM_SMMU_* offsets from Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h.
        let linux = [
            (0x0, Reg::Idr0),
            (0x4, Reg::Idr1),
            (0xc, Reg::Idr3),
            (0x14, Reg::Idr5),
            (0x1c, Reg::Aidr),
            (0x20, Reg::Cr0),
            (0x24, Reg::Cr0Ack),
            (0x28, Reg::Cr1),
            (0x2c, Reg::Cr2),
            (0x44, Reg::Gbpa),
            (0x50, Reg::IrqCtrl),
            (0x54, Reg::IrqCtrlAck),
            (0x60, Reg::Gerror),
            (0x64, Reg::Gerrorn),
            (0x68, Reg::GerrorIrqCfg0),
            (0x70, Reg::GerrorIrqCfg1),
            (0x74, Reg::GerrorIrqCfg2),
            (0x80, Reg::StrtabBase),
            (0x88, Reg::StrtabBaseCfg),
            (0x90, Reg::CmdqBase),
            (0x98, Reg::CmdqProd),
            (0x9c, Reg::CmdqCons),
            (0xa0, Reg::EventqBase),
            (0xb0, Reg::EventqIrqCfg0),
            (0xb8, Reg::EventqIrqCfg1),
            (0xbc, Reg::EventqIrqCfg2),
            (0xc0, Reg::PriqBase),
            (0xd0, Reg::PriqIrqCfg0),
            (0xd8, Reg::PriqIrqCfg1),
            (0xdc, Reg::PriqIrqCfg2),
        ];
        for (offset, reg) in linux {
            assert_eq!(ns_page0(offset), Some(reg), "offset {offset:#x}");
        }
    }

    #[test]
    fn page1_holds_eventq_and_priq_prod_cons_at_linux_offsets() {
        // ARM_SMMU_EVTQ_PROD 0x100a8 etc., relative to page 1.
        assert_eq!(page1(0xa8), Some(Reg::EventqProd));
        assert_eq!(page1(0xac), Some(Reg::EventqCons));
        assert_eq!(page1(0xc8), Some(Reg::PriqProd));
        assert_eq!(page1(0xcc), Some(Reg::PriqCons));
        assert_eq!(page1(0x0), None);
    }

    #[test]
    fn ns_page0_does_not_list_page1_registers() {
        assert_eq!(ns_page0(0xa8), None);
        assert_eq!(ns_page0(0xcc), None);
    }

    #[test]
    fn secure_page_has_init_and_eventq_prod_cons_but_no_priq() {
        // TF-A: SMMU_S_INIT 0x803c; Hafnium: S_EVTQ_PROD 0x80a8.
        assert_eq!(s_page0(0x3c), Some(Reg::Init));
        assert_eq!(s_page0(0xa8), Some(Reg::EventqProd));
        assert_eq!(s_page0(0xac), Some(Reg::EventqCons));
        assert_eq!(s_page0(0xc0), None);
        assert_eq!(s_page0(0xd0), None);
        assert_eq!(s_page0(0x14), None, "no S_IDR5");
        assert_eq!(s_page0(0x18), None, "no S_IIDR");
        assert_eq!(s_page0(0x40), None, "no S_STATUSR");
    }

    #[test]
    fn id_block_words_are_named_as_coresight() {
        assert_eq!(ns_page0(0xfd0).unwrap().name(SecSid::NonSecure), "PIDR4");
        assert_eq!(ns_page0(0xfe0).unwrap().name(SecSid::NonSecure), "PIDR0");
        assert_eq!(ns_page0(0xffc).unwrap().name(SecSid::NonSecure), "CIDR3");
    }

    #[test]
    fn secure_names_carry_the_s_prefix() {
        assert_eq!(Reg::Cr0.name(SecSid::Secure), "S_CR0");
        assert_eq!(Reg::Cr0.name(SecSid::NonSecure), "CR0");
    }

    #[test]
    fn exactly_the_architected_64_bit_registers_are_64_bit() {
        for offset in [0x68, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0] {
            assert!(ns_page0(offset).unwrap().is_64(), "offset {offset:#x}");
        }
        for offset in [0x20, 0x70, 0x88, 0x98, 0x9c, 0xb8] {
            assert!(!ns_page0(offset).unwrap().is_64(), "offset {offset:#x}");
        }
    }
}

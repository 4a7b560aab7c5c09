//! Command queue entries (IHI 0070 §4): 16 bytes, opcode in byte 0, bit numbers entry-absolute.

use super::wire_struct;

wire_struct!(
    /// A command as it sits in the command queue.
    Cmd,
    CmdBits,
    2
);

bitfield::bitfield! {
    /// Command fields at their spec bit positions. Which apply depends on the opcode.
    pub struct CmdBits(pub [u8]);
    u64;
    pub opcode, set_opcode: 7, 0;
    /// ATC_INV Global.
    pub global, set_global: 9;
    pub ssec, set_ssec: 10;
    pub ssv, set_ssv: 11;
    pub substream_id, set_substream_id: 31, 12;
    pub stream_id, set_stream_id: 63, 32;
    /// TLBI range: NUM.
    pub num, set_num: 16, 12;
    /// TLBI range: SCALE.
    pub scale, set_scale: 24, 20;
    pub vmid, set_vmid: 47, 32;
    pub asid, set_asid: 63, 48;
    /// CMD_SYNC completion signal.
    pub cs, set_cs: 13, 12;
    /// RESUME Action / PRI_RESP-like response in dword 0.
    pub action, set_action: 13, 12;
    pub msh, set_msh: 23, 22;
    pub msiattr, set_msiattr: 27, 24;
    pub msidata, set_msidata: 63, 32;
    /// CFGI_* Leaf / TLBI Leaf.
    pub leaf, set_leaf: 64;
    /// CFGI_STE_RANGE Range (2^(Range+1) StreamIDs; 31 = all).
    pub range, set_range: 68, 64;
    /// ATC_INV Size.
    pub atc_size, set_atc_size: 69, 64;
    pub ttl128, set_ttl128: 71;
    pub ttl, set_ttl: 73, 72;
    pub tg, set_tg: 75, 74;
    /// TLBI VA / ATC_INV Address bits [63:12].
    pub address, set_address: 127, 76;
    /// TLBI_S2_IPA IPA bits [55:12].
    pub ipa, set_ipa: 119, 76;
    /// CMD_SYNC MSIAddr bits [55:2].
    pub msiaddr, set_msiaddr: 119, 66;
    /// Realm CMD_SYNC MSI_NS.
    pub msi_ns, set_msi_ns: 127;
    /// PRI_RESP PRGIndex.
    pub prg_index, set_prg_index: 72, 64;
    /// PRI_RESP Resp.
    pub resp, set_resp: 77, 76;
    /// RESUME STAG.
    pub stag, set_stag: 79, 64;
}

/// Byte size of a command.
pub const CMD_SIZE: u64 = 16;

/// Opcodes (§4.1.1).
pub mod op {
    pub const PREFETCH_CONFIG: u8 = 0x01;
    pub const PREFETCH_ADDR: u8 = 0x02;
    pub const CFGI_STE: u8 = 0x03;
    pub const CFGI_STE_RANGE: u8 = 0x04;
    pub const CFGI_CD: u8 = 0x05;
    pub const CFGI_CD_ALL: u8 = 0x06;
    pub const CFGI_VMS_PIDM: u8 = 0x07;
    pub const TLBI_NH_ALL: u8 = 0x10;
    pub const TLBI_NH_ASID: u8 = 0x11;
    pub const TLBI_NH_VA: u8 = 0x12;
    pub const TLBI_NH_VAA: u8 = 0x13;
    pub const TLBI_EL3_ALL: u8 = 0x18;
    pub const TLBI_EL3_VA: u8 = 0x1a;
    pub const TLBI_EL2_ALL: u8 = 0x20;
    pub const TLBI_EL2_ASID: u8 = 0x21;
    pub const TLBI_EL2_VA: u8 = 0x22;
    pub const TLBI_EL2_VAA: u8 = 0x23;
    pub const TLBI_S12_VMALL: u8 = 0x28;
    pub const TLBI_S2_IPA: u8 = 0x2a;
    pub const TLBI_NSNH_ALL: u8 = 0x30;
    pub const ATC_INV: u8 = 0x40;
    pub const PRI_RESP: u8 = 0x41;
    pub const RESUME: u8 = 0x44;
    pub const STALL_TERM: u8 = 0x45;
    pub const SYNC: u8 = 0x46;
    pub const TLBI_S_EL2_ALL: u8 = 0x50;
    pub const TLBI_S_EL2_ASID: u8 = 0x51;
    pub const TLBI_S_EL2_VA: u8 = 0x52;
    pub const TLBI_S_EL2_VAA: u8 = 0x53;
    pub const TLBI_S_S12_VMALL: u8 = 0x58;
    pub const TLBI_S_S2_IPA: u8 = 0x5a;
    pub const TLBI_SNH_ALL: u8 = 0x60;
    pub const DPTI_ALL: u8 = 0x70;
    pub const DPTI_PA: u8 = 0x73;

    /// The spec name of an opcode, or `None` for a reserved or IMPDEF one.
    pub fn name(op: u8) -> Option<&'static str> {
        Some(match op {
            PREFETCH_CONFIG => "CMD_PREFETCH_CONFIG",
            PREFETCH_ADDR => "CMD_PREFETCH_ADDR",
            CFGI_STE => "CMD_CFGI_STE",
            CFGI_STE_RANGE => "CMD_CFGI_STE_RANGE",
            CFGI_CD => "CMD_CFGI_CD",
            CFGI_CD_ALL => "CMD_CFGI_CD_ALL",
            CFGI_VMS_PIDM => "CMD_CFGI_VMS_PIDM",
            TLBI_NH_ALL => "CMD_TLBI_NH_ALL",
            TLBI_NH_ASID => "CMD_TLBI_NH_ASID",
            TLBI_NH_VA => "CMD_TLBI_NH_VA",
            TLBI_NH_VAA => "CMD_TLBI_NH_VAA",
            TLBI_EL3_ALL => "CMD_TLBI_EL3_ALL",
            TLBI_EL3_VA => "CMD_TLBI_EL3_VA",
            TLBI_EL2_ALL => "CMD_TLBI_EL2_ALL",
            TLBI_EL2_ASID => "CMD_TLBI_EL2_ASID",
            TLBI_EL2_VA => "CMD_TLBI_EL2_VA",
            TLBI_EL2_VAA => "CMD_TLBI_EL2_VAA",
            TLBI_S12_VMALL => "CMD_TLBI_S12_VMALL",
            TLBI_S2_IPA => "CMD_TLBI_S2_IPA",
            TLBI_NSNH_ALL => "CMD_TLBI_NSNH_ALL",
            ATC_INV => "CMD_ATC_INV",
            PRI_RESP => "CMD_PRI_RESP",
            RESUME => "CMD_RESUME",
            STALL_TERM => "CMD_STALL_TERM",
            SYNC => "CMD_SYNC",
            TLBI_S_EL2_ALL => "CMD_TLBI_S_EL2_ALL",
            TLBI_S_EL2_ASID => "CMD_TLBI_S_EL2_ASID",
            TLBI_S_EL2_VA => "CMD_TLBI_S_EL2_VA",
            TLBI_S_EL2_VAA => "CMD_TLBI_S_EL2_VAA",
            TLBI_S_S12_VMALL => "CMD_TLBI_S_S12_VMALL",
            TLBI_S_S2_IPA => "CMD_TLBI_S_S2_IPA",
            TLBI_SNH_ALL => "CMD_TLBI_SNH_ALL",
            DPTI_ALL => "CMD_DPTI_ALL",
            DPTI_PA => "CMD_DPTI_PA",
            _ => return None,
        })
    }
}

/// CMD_SYNC CS values.
pub mod cs {
    pub const SIG_NONE: u64 = 0;
    pub const SIG_IRQ: u64 = 1;
    pub const SIG_SEV: u64 = 2;
}

/// CMDQ_CONS.ERR codes (§7.1).
pub mod cerror {
    pub const NONE: u32 = 0x00;
    pub const ILL: u32 = 0x01;
    pub const ABT: u32 = 0x02;
    pub const ATC_INV_SYNC: u32 = 0x03;
}

bitfield::bitfield! {
    /// Command fields whose width depends on an ID register, at their spec bit positions.
    pub struct CmdBitsExt(pub [u8]);
    u64;
    /// TLBI range SCALE with SMMU_IDR5.DS == 1 (6 bits, \[25:20\]); bit 25 is RES0 otherwise.
    pub scale_ds, set_scale_ds: 25, 20;
    /// RESUME Action (Ac): 1 retry, 0 terminate.
    pub resume_ac, set_resume_ac: 12;
    /// RESUME Abort (Ab).
    pub resume_ab, set_resume_ab: 13;
}

impl Cmd {
    /// View of the ID-register dependent fields.
    pub fn bits_ext(&self) -> CmdBitsExt<&[u8]> {
        CmdBitsExt(zerocopy::IntoBytes::as_bytes(self))
    }
    /// Writable view of the ID-register dependent fields.
    pub fn bits_ext_mut(&mut self) -> CmdBitsExt<&mut [u8]> {
        CmdBitsExt(zerocopy::IntoBytes::as_mut_bytes(self))
    }
}

/// CMD_SYNC CS value 0b11: Reserved (CERROR_ILL).
pub const CS_RESERVED: u64 = 3;
/// PRI_RESP Resp value 0b11: Reserved (ILLEGAL).
pub const PRI_RESP_RESERVED: u64 = 3;
/// CMD_ATC_INV Size meaning "invalidate all" (2^64 bytes); larger values are the
/// implementation's CONSTRAINED UNPREDICTABLE choice.
pub const ATC_INV_SIZE_ALL: u64 = 52;
/// CMD_CFGI_STE_RANGE Range meaning CMD_CFGI_ALL.
pub const CFGI_RANGE_ALL: u64 = 31;
/// TLBI TG values (translation granule of the entries to invalidate).
pub mod tg {
    /// Any granule: not a range invalidation, no TTL hint.
    pub const ANY: u64 = 0b00;
    pub const G4K: u64 = 0b01;
    pub const G16K: u64 = 0b10;
    pub const G64K: u64 = 0b11;
}

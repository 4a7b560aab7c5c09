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
    /// TLBI range: SCALE as implemented without SMMU_IDR5.DS, bits [24:20]. With DS it is
    /// 6 bits wide, [25:20] (`CmdBitsExt::scale_ds`; values above 39 behave as 39).
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
    /// CMD_PREFETCH_ADDR Size (2^Size translations at the prefetch stride).
    pub prefetch_size, set_prefetch_size: 68, 64;
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

impl Cmd {
    /// CMD_SYNC MSIAddress: the MSIAddr field [55:2] as an address.
    pub fn msi_address(&self) -> u64 {
        self.bits().msiaddr() << 2
    }

    /// TLBI VA / ATC_INV Address: the Address field [63:12] as an address.
    pub fn tlbi_address(&self) -> u64 {
        self.bits().address() << 12
    }

    /// TLBI_S2_IPA IPA: the IPA field [55:12] as an address.
    pub fn tlbi_ipa(&self) -> u64 {
        self.bits().ipa() << 12
    }
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

/// CMD_TLBI_* TG encodings (§4.4.1.1); 0 means no range and no level hint.
pub mod tlbi_tg {
    pub const NONE: u64 = 0b00;
    pub const G4K: u64 = 0b01;
    pub const G16K: u64 = 0b10;
    pub const G64K: u64 = 0b11;
}

/// CMD_RESUME Action values (Ac bit 12, Ab bit 13).
pub mod resume_action {
    pub const TERMINATE: u64 = 0b00;
    pub const RETRY: u64 = 0b01;
    pub const ABORT: u64 = 0b10;
}

/// CMD_PRI_RESP Resp values.
pub mod pri_resp {
    pub const DENY: u64 = 0b00;
    pub const FAIL: u64 = 0b01;
    pub const SUCCESS: u64 = 0b10;
}

/// CMD_CFGI_STE_RANGE Range value meaning every StreamID (CMD_CFGI_ALL).
pub const CFGI_RANGE_ALL: u64 = 31;

/// ATC_INV Size value that invalidates the whole address space.
pub const ATC_INV_SIZE_ALL: u64 = 52;

/// Range invalidation and level hint of an address-based CMD_TLBI_* (§4.4.1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TlbiRange {
    /// NUM: the range is (NUM + 1) * 2^SCALE granules.
    pub num: u8,
    /// SCALE (6 bits with SMMU_IDR5.DS, else 5).
    pub scale: u8,
    /// TG (`tlbi_tg`): granule of the entries to invalidate; 0 disables range and hint.
    pub tg: u8,
    /// TTL: level hint.
    pub ttl: u8,
    /// TTL128: the level hint applies to 128-bit descriptors.
    pub ttl128: bool,
}

impl Cmd {
    /// A command with only its opcode set.
    pub fn new(opcode: u8) -> Cmd {
        let mut c = Cmd::default();
        c.bits_mut().set_opcode(u64::from(opcode));
        c
    }

    /// The opcode (byte 0).
    pub fn op(&self) -> u8 {
        self.bits().opcode() as u8
    }

    /// Sets SSec (Secure queue only: the command targets the Secure stream table).
    pub fn with_ssec(mut self) -> Cmd {
        self.bits_mut().set_ssec(true);
        self
    }

    /// Sets SSV and SubstreamID.
    pub fn with_ssid(mut self, ssid: u32) -> Cmd {
        let mut b = self.bits_mut();
        b.set_ssv(true);
        b.set_substream_id(u64::from(ssid));
        self
    }

    /// Sets the TLBI range and level hint fields.
    pub fn with_range(mut self, r: TlbiRange) -> Cmd {
        let mut b = self.bits_mut();
        b.set_num(u64::from(r.num));
        b.set_tg(u64::from(r.tg));
        b.set_ttl(u64::from(r.ttl));
        b.set_ttl128(r.ttl128);
        self.bits_ext_mut().set_scale_ds(u64::from(r.scale));
        self
    }

    /// Sets CMD_SYNC MSH (MSI shareability).
    pub fn with_msh(mut self, sh: u8) -> Cmd {
        self.bits_mut().set_msh(u64::from(sh));
        self
    }

    /// Sets the Realm CMD_SYNC MSI_NS bit (MSI to the Non-secure PA space).
    pub fn with_msi_ns(mut self) -> Cmd {
        self.bits_mut().set_msi_ns(true);
        self
    }

    fn with_sid(op: u8, sid: u32) -> Cmd {
        let mut c = Cmd::new(op);
        c.bits_mut().set_stream_id(u64::from(sid));
        c
    }

    fn with_vmid_asid(op: u8, vmid: u16, asid: u16) -> Cmd {
        let mut c = Cmd::new(op);
        let mut b = c.bits_mut();
        b.set_vmid(u64::from(vmid));
        b.set_asid(u64::from(asid));
        c
    }

    fn with_addr(mut self, addr: u64, leaf: bool) -> Cmd {
        let mut b = self.bits_mut();
        b.set_leaf(leaf);
        b.set_address(addr >> 12);
        self
    }

    /// CMD_PREFETCH_CONFIG(StreamID).
    pub fn prefetch_config(sid: u32) -> Cmd {
        Cmd::with_sid(op::PREFETCH_CONFIG, sid)
    }

    /// CMD_PREFETCH_ADDR(StreamID, Addr, Size).
    pub fn prefetch_addr(sid: u32, addr: u64, size: u8) -> Cmd {
        let mut c = Cmd::with_sid(op::PREFETCH_ADDR, sid);
        let mut b = c.bits_mut();
        b.set_prefetch_size(u64::from(size));
        b.set_address(addr >> 12);
        c
    }

    /// CMD_CFGI_STE(StreamID, Leaf).
    pub fn cfgi_ste(sid: u32, leaf: bool) -> Cmd {
        let mut c = Cmd::with_sid(op::CFGI_STE, sid);
        c.bits_mut().set_leaf(leaf);
        c
    }

    /// CMD_CFGI_STE_RANGE(StreamID, Range): 2^(Range+1) StreamIDs.
    pub fn cfgi_ste_range(sid: u32, range: u8) -> Cmd {
        let mut c = Cmd::with_sid(op::CFGI_STE_RANGE, sid);
        c.bits_mut().set_range(u64::from(range));
        c
    }

    /// CMD_CFGI_ALL: CMD_CFGI_STE_RANGE with Range 31.
    pub fn cfgi_all() -> Cmd {
        Cmd::cfgi_ste_range(0, CFGI_RANGE_ALL as u8)
    }

    /// CMD_CFGI_CD(StreamID, SubstreamID, Leaf).
    pub fn cfgi_cd(sid: u32, ssid: u32, leaf: bool) -> Cmd {
        let mut c = Cmd::with_sid(op::CFGI_CD, sid);
        let mut b = c.bits_mut();
        b.set_substream_id(u64::from(ssid));
        b.set_leaf(leaf);
        c
    }

    /// CMD_CFGI_CD_ALL(StreamID).
    pub fn cfgi_cd_all(sid: u32) -> Cmd {
        Cmd::with_sid(op::CFGI_CD_ALL, sid)
    }

    /// CMD_CFGI_VMS_PIDM(VMID).
    pub fn cfgi_vms_pidm(vmid: u16) -> Cmd {
        Cmd::with_vmid_asid(op::CFGI_VMS_PIDM, vmid, 0)
    }

    /// CMD_TLBI_NH_ALL(VMID).
    pub fn tlbi_nh_all(vmid: u16) -> Cmd {
        Cmd::with_vmid_asid(op::TLBI_NH_ALL, vmid, 0)
    }

    /// CMD_TLBI_NH_ASID(VMID, ASID).
    pub fn tlbi_nh_asid(vmid: u16, asid: u16) -> Cmd {
        Cmd::with_vmid_asid(op::TLBI_NH_ASID, vmid, asid)
    }

    /// CMD_TLBI_NH_VA(VMID, ASID, Addr, Leaf); range fields through [`Cmd::with_range`].
    pub fn tlbi_nh_va(vmid: u16, asid: u16, addr: u64, leaf: bool) -> Cmd {
        Cmd::with_vmid_asid(op::TLBI_NH_VA, vmid, asid).with_addr(addr, leaf)
    }

    /// CMD_TLBI_NH_VAA(VMID, Addr, Leaf).
    pub fn tlbi_nh_vaa(vmid: u16, addr: u64, leaf: bool) -> Cmd {
        Cmd::with_vmid_asid(op::TLBI_NH_VAA, vmid, 0).with_addr(addr, leaf)
    }

    /// CMD_TLBI_EL3_ALL.
    pub fn tlbi_el3_all() -> Cmd {
        Cmd::new(op::TLBI_EL3_ALL)
    }

    /// CMD_TLBI_EL3_VA(Addr, Leaf).
    pub fn tlbi_el3_va(addr: u64, leaf: bool) -> Cmd {
        Cmd::new(op::TLBI_EL3_VA).with_addr(addr, leaf)
    }

    /// CMD_TLBI_EL2_ALL.
    pub fn tlbi_el2_all() -> Cmd {
        Cmd::new(op::TLBI_EL2_ALL)
    }

    /// CMD_TLBI_EL2_ASID(ASID).
    pub fn tlbi_el2_asid(asid: u16) -> Cmd {
        Cmd::with_vmid_asid(op::TLBI_EL2_ASID, 0, asid)
    }

    /// CMD_TLBI_EL2_VA(ASID, Addr, Leaf).
    pub fn tlbi_el2_va(asid: u16, addr: u64, leaf: bool) -> Cmd {
        Cmd::with_vmid_asid(op::TLBI_EL2_VA, 0, asid).with_addr(addr, leaf)
    }

    /// CMD_TLBI_EL2_VAA(Addr, Leaf).
    pub fn tlbi_el2_vaa(addr: u64, leaf: bool) -> Cmd {
        Cmd::new(op::TLBI_EL2_VAA).with_addr(addr, leaf)
    }

    /// CMD_TLBI_S12_VMALL(VMID).
    pub fn tlbi_s12_vmall(vmid: u16) -> Cmd {
        Cmd::with_vmid_asid(op::TLBI_S12_VMALL, vmid, 0)
    }

    /// CMD_TLBI_S2_IPA(VMID, Addr, Leaf): IPA bits [55:12].
    pub fn tlbi_s2_ipa(vmid: u16, ipa: u64, leaf: bool) -> Cmd {
        let mut c = Cmd::with_vmid_asid(op::TLBI_S2_IPA, vmid, 0);
        let mut b = c.bits_mut();
        b.set_leaf(leaf);
        b.set_ipa(ipa >> 12);
        c
    }

    /// CMD_TLBI_NSNH_ALL.
    pub fn tlbi_nsnh_all() -> Cmd {
        Cmd::new(op::TLBI_NSNH_ALL)
    }

    /// CMD_TLBI_SNH_ALL (Secure queue only).
    pub fn tlbi_snh_all() -> Cmd {
        Cmd::new(op::TLBI_SNH_ALL)
    }

    /// CMD_TLBI_S_EL2_ALL (Secure queue only).
    pub fn tlbi_s_el2_all() -> Cmd {
        Cmd::new(op::TLBI_S_EL2_ALL)
    }

    /// CMD_TLBI_S_S12_VMALL(VMID) (Secure queue only).
    pub fn tlbi_s_s12_vmall(vmid: u16) -> Cmd {
        Cmd::with_vmid_asid(op::TLBI_S_S12_VMALL, vmid, 0)
    }

    /// CMD_ATC_INV(StreamID, SubstreamID, Addr, Size, Global).
    pub fn atc_inv(sid: u32, ssid: Option<u32>, addr: u64, size: u8, global: bool) -> Cmd {
        let mut c = Cmd::with_sid(op::ATC_INV, sid);
        if let Some(ssid) = ssid {
            c = c.with_ssid(ssid);
        }
        let mut b = c.bits_mut();
        b.set_global(global);
        b.set_atc_size(u64::from(size));
        b.set_address(addr >> 12);
        c
    }

    /// CMD_PRI_RESP(StreamID, SubstreamID, PRGIndex, Resp).
    pub fn pri_resp(sid: u32, ssid: Option<u32>, prg_index: u16, resp: u64) -> Cmd {
        let mut c = Cmd::with_sid(op::PRI_RESP, sid);
        if let Some(ssid) = ssid {
            c = c.with_ssid(ssid);
        }
        let mut b = c.bits_mut();
        b.set_prg_index(u64::from(prg_index));
        b.set_resp(resp);
        c
    }

    /// CMD_RESUME(StreamID, STAG, Action).
    pub fn resume(sid: u32, stag: u16, action: u64) -> Cmd {
        let mut c = Cmd::with_sid(op::RESUME, sid);
        let mut b = c.bits_mut();
        b.set_action(action);
        b.set_stag(u64::from(stag));
        c
    }

    /// CMD_STALL_TERM(StreamID).
    pub fn stall_term(sid: u32) -> Cmd {
        Cmd::with_sid(op::STALL_TERM, sid)
    }

    /// CMD_SYNC(CS, MSIAddress, MSIData, MSIAttr); MSIAddr bits [55:2].
    pub fn sync(cs: u64, msi_addr: u64, msi_data: u32, msiattr: u8) -> Cmd {
        let mut c = Cmd::new(op::SYNC);
        let mut b = c.bits_mut();
        b.set_cs(cs);
        b.set_msiattr(u64::from(msiattr));
        b.set_msidata(u64::from(msi_data));
        b.set_msiaddr(msi_addr >> 2);
        c
    }
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
/// TLBI TG values (translation granule of the entries to invalidate).
pub mod tg {
    /// Any granule: not a range invalidation, no TTL hint.
    pub const ANY: u64 = 0b00;
    pub const G4K: u64 = 0b01;
    pub const G16K: u64 = 0b10;
    pub const G64K: u64 = 0b11;
}

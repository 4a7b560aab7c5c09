//! QEMU-style property values: booleans, integers, and the `arm-smmuv3` globals.

use smmu::{CachePolicy, Preset, SmmuConfig};

use crate::bus::GlobalOpt;

/// A boolean property ([`crate::cli::parse_bool`]'s spellings), with QEMU's error message.
pub fn parse_bool(name: &str, v: &str) -> Result<bool, String> {
    crate::cli::parse_bool(v).ok_or_else(|| format!("Parameter '{name}' expects 'on' or 'off'"))
}

/// An unsigned integer as QEMU's keyval visitor reads it (`qemu_strtou64` base 0: `0x` hex,
/// leading `0` octal, else decimal, the same parser as the qtest protocol's), at most `max`.
pub fn parse_uint(name: &str, v: &str, max: u64) -> Result<u64, String> {
    crate::protocol::strtou64(v)
        .filter(|&n| n <= max)
        .ok_or_else(|| format!("Parameter '{name}' expects an integer in the range 0..={max}"))
}

/// The `-global arm-smmuv3.X=V` driver name.
pub const SMMU_DRIVER: &str = "arm-smmuv3";

/// Builds the SMMU configuration from the `arm-smmuv3` globals: `preset` first (wherever it
/// appears), then every other property in command-line order; the result is validated.
///
/// `stages=1|2|nested` removes stage 2 or stage 1 from the model (SMMU_IDR0.S2P / S1P, and
/// IDR3.XNX with stage 2), giving QEMU's stage-1-only and stage-2-only ID values.
///
/// QEMU's own properties are accepted with the values QEMU accepts without `accel=on`:
/// `stage` (1, 2 or nested; virt forces nested, as QEMU does, so it changes nothing),
/// `oas=44`, `ril=on`, `ats=off`, `accel=off`, `ssidsize=0`, `msi-gpa` (any address; there is
/// no MSI doorbell to point it at).
pub fn smmu_config(globals: &[GlobalOpt]) -> Result<SmmuConfig, String> {
    let ours: Vec<&GlobalOpt> = globals.iter().filter(|g| g.driver == SMMU_DRIVER).collect();
    let mut cfg = SmmuConfig::qemu_virt();
    for g in ours.iter().filter(|g| g.prop == "preset") {
        cfg = match Preset::parse(&g.value) {
            Some(Preset::QemuVirt) => SmmuConfig::qemu_virt(),
            Some(Preset::Full) => SmmuConfig::full(),
            None => return Err(invalid(g, "qemu-virt, full")),
        };
    }
    for g in ours {
        let name = g.prop.as_str();
        let v = g.value.as_str();
        match name {
            "preset" => {}
            "secure-impl" => cfg.secure_impl = parse_bool(name, v)?,
            "root-firmware" => cfg.root_firmware = parse_bool(name, v)?,
            "page0-alias" => cfg.page0_alias = parse_bool(name, v)?,
            "mev-merge" => cfg.mev_merge = parse_bool(name, v)?,
            "root-offset" => cfg.root_offset = parse_uint(name, v, u64::from(u32::MAX))?,
            "ba-realm" => cfg.ba_realm = parse_uint(name, v, 1023)? as u32,
            "cache-policy" => {
                cfg.cache_policy =
                    CachePolicy::parse(v).ok_or_else(|| invalid(g, "normal, never, sticky"))?;
            }
            "stage" => {
                if !matches!(v, "1" | "2" | "nested") {
                    return Err(invalid(g, "1, 2, nested"));
                }
            }
            "stages" => {
                cfg = match v {
                    "1" => cfg.without_stage2(),
                    "2" => cfg.without_stage1(),
                    "nested" => cfg,
                    _ => return Err(invalid(g, "1, 2, nested")),
                };
            }
            "oas" => {
                if parse_uint(name, v, u64::MAX)? != 44 {
                    return Err(format!("{SMMU_DRIVER}: OAS must be 44 bits when accel=off"));
                }
            }
            "ril" => {
                if !parse_bool(name, v)? {
                    return Err(format!("{SMMU_DRIVER}: ril can only be disabled when accel=on"));
                }
            }
            "ats" | "accel" => {
                if parse_bool(name, v)? {
                    return Err(format!("{SMMU_DRIVER}: {name}=on is not supported by this model"));
                }
            }
            "ssidsize" => {
                if parse_uint(name, v, 20)? != 0 {
                    return Err(format!("{SMMU_DRIVER}: ssidsize can only be set when accel=on"));
                }
            }
            "msi-gpa" => {
                parse_uint(name, v, u64::MAX)?;
            }
            _ => return Err(format!("Property '{SMMU_DRIVER}.{name}' not found")),
        }
    }
    cfg.validate().map_err(|e| format!("{SMMU_DRIVER}: {e}"))?;
    Ok(cfg)
}

fn invalid(g: &GlobalOpt, valid: &str) -> String {
    format!(
        "Property '{}.{}' doesn't take value '{}' (valid values: {valid})",
        g.driver, g.prop, g.value
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(prop: &str, value: &str) -> GlobalOpt {
        GlobalOpt { driver: SMMU_DRIVER.into(), prop: prop.into(), value: value.into() }
    }

    #[test]
    fn every_qemu_boolean_spelling_is_accepted() {
        for t in ["on", "yes", "true"] {
            assert_eq!(parse_bool("x", t), Ok(true));
        }
        for f in ["off", "no", "false"] {
            assert_eq!(parse_bool("x", f), Ok(false));
        }
    }

    #[test]
    fn bad_boolean_names_the_parameter() {
        assert_eq!(
            parse_bool("secure", "1"),
            Err("Parameter 'secure' expects 'on' or 'off'".into())
        );
    }

    #[test]
    fn integers_parse_in_qemu_bases() {
        assert_eq!(parse_uint("x", "0x20000", u64::MAX), Ok(0x20000));
        assert_eq!(parse_uint("x", "010", u64::MAX), Ok(8));
        assert_eq!(parse_uint("x", "0", u64::MAX), Ok(0));
        assert_eq!(parse_uint("x", "42", u64::MAX), Ok(42));
    }

    #[test]
    fn integers_take_qemu_strtou64_signs_negating_modulo_2_64() {
        assert_eq!(parse_uint("x", "+0x10", 1023), Ok(0x10));
        assert_eq!(parse_uint("x", "-1", u64::MAX), Ok(u64::MAX));
    }

    #[test]
    fn integers_out_of_range_or_malformed_are_rejected() {
        for v in ["", "0x", "12a", "-1", "1024", "09"] {
            assert!(parse_uint("x", v, 1023).is_err(), "{v:?}");
        }
    }

    #[test]
    fn no_globals_give_the_qemu_virt_preset() {
        assert_eq!(smmu_config(&[]), Ok(SmmuConfig::qemu_virt()));
    }

    #[test]
    fn preset_applies_before_other_properties_wherever_it_appears() {
        let c = smmu_config(&[g("secure-impl", "off"), g("preset", "full")]).unwrap();
        assert_eq!(c.preset, Preset::Full);
        assert!(!c.secure_impl);
    }

    #[test]
    fn design_table_properties_reach_the_config() {
        let c = smmu_config(&[
            g("secure-impl", "yes"),
            g("root-firmware", "false"),
            g("root-offset", "0x80000"),
            g("ba-realm", "3"),
            g("cache-policy", "sticky"),
            g("page0-alias", "off"),
            g("mev-merge", "on"),
        ])
        .unwrap();
        assert!(c.secure_impl && !c.root_firmware && !c.page0_alias && c.mev_merge);
        assert_eq!((c.root_offset, c.ba_realm), (0x80000, 3));
        assert_eq!(c.cache_policy, CachePolicy::Sticky);
    }

    #[test]
    fn stages_give_qemus_single_stage_id_values() {
        let s1 = smmu_config(&[g("stages", "1")]).unwrap();
        assert_eq!((s1.idr0, s1.idr3), (0x0d44_101a, 0x1404));
        let s2 = smmu_config(&[g("stages", "2")]).unwrap();
        assert_eq!((s2.idr0, s2.idr3), (0x0d44_1019, 0x1414));
        assert!(smmu_config(&[g("stages", "3")]).is_err());
    }

    #[test]
    fn qemu_properties_with_qemu_values_are_accepted() {
        let gs = [g("stage", "nested"), g("oas", "44"), g("ril", "on"), g("msi-gpa", "0x1000")];
        assert_eq!(smmu_config(&gs), Ok(SmmuConfig::qemu_virt()));
    }

    #[test]
    fn qemu_properties_needing_accel_are_rejected() {
        for (p, v) in [("oas", "48"), ("ril", "off"), ("ats", "on"), ("ssidsize", "20")] {
            assert!(smmu_config(&[g(p, v)]).is_err(), "{p}={v}");
        }
    }

    #[test]
    fn unknown_property_is_reported_like_qemu() {
        assert_eq!(
            smmu_config(&[g("bogus", "1")]),
            Err("Property 'arm-smmuv3.bogus' not found".into())
        );
    }

    #[test]
    fn bad_values_are_rejected() {
        for (p, v) in [("preset", "x"), ("cache-policy", "lru"), ("stage", "3"), ("ba-realm", "1")]
        {
            assert!(smmu_config(&[g(p, v)]).is_err(), "{p}={v}");
        }
    }

    #[test]
    fn realm_pages_over_root_page_are_rejected() {
        assert!(smmu_config(&[g("root-offset", "0x50000"), g("ba-realm", "3")]).is_err());
    }

    #[test]
    fn globals_of_other_drivers_are_ignored_here() {
        let other =
            GlobalOpt { driver: "iommu-testdev".into(), prop: "x".into(), value: "1".into() };
        assert_eq!(smmu_config(&[other]), Ok(SmmuConfig::qemu_virt()));
    }
}

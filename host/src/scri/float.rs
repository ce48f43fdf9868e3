//! SCRI keeps sampling numbers as `f32`, and JSON numbers are read as `f64`: `f64 as f32`
//! turns anything beyond ±3.4e38 into infinity, which serialises as `null` and is no setting a
//! provider takes. Such a number is refused instead, naming the field (SCRI's flattened
//! `Sampling` checks after parsing: `Sampling::out_of_range`). (The fuzz harness,
//! `fuzz/`, found `"temperature": 1e300` accepted by every chat route.)

/// `value` as a finite `f32`, or why not.
pub fn finite_f32(value: f64) -> Result<f32, String> {
    let narrowed = value as f32;
    if narrowed.is_finite() {
        Ok(narrowed)
    } else {
        Err(format!(
            "{value} is out of range for this setting (at most ±3.4e38)"
        ))
    }
}

/// Serde `deserialize_with` for an optional `f32` field: absent or null is `None`, a number
/// beyond `f32`'s range an error (which `parse_json` reports with the field's path).
pub fn opt_finite_f32<'de, D>(deserializer: D) -> Result<Option<f32>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value: Option<f64> = serde::Deserialize::deserialize(deserializer)?;
    value
        .map(finite_f32)
        .transpose()
        .map_err(serde::de::Error::custom)
}

//! JSON output, following the contract's value rules.

use mmarray_dtype::Value;
use mmarray_dtype::text::{format_f16, format_f32};
use serde_json::{Number, Value as Json};

/// A value as JSON: floats as numbers (float64 so that they parse back to the same
/// float64, float16/float32 with the digits numpy prints for them), NaN and
/// infinities as the strings `"nan"`, `"inf"`, `"-inf"`, complex values as
/// `[re, im]`, integers as integers and bools as bools.
pub(crate) fn value(v: &Value) -> Json {
    match *v {
        Value::Bool(b) => Json::Bool(b),
        Value::I8(x) => x.into(),
        Value::I16(x) => x.into(),
        Value::I32(x) => x.into(),
        Value::I64(x) => x.into(),
        Value::U8(x) => x.into(),
        Value::U16(x) => x.into(),
        Value::U32(x) => x.into(),
        Value::U64(x) => x.into(),
        Value::F16(x) => float(x.to_f64(), || format_f16(x)),
        Value::F32(x) => float(f64::from(x), || format_f32(x)),
        Value::F64(x) => float(x, String::new),
        Value::C64(c) => Json::Array(vec![
            float(f64::from(c.re), || format_f32(c.re)),
            float(f64::from(c.im), || format_f32(c.im)),
        ]),
        Value::C128(c) => Json::Array(vec![float(c.re, String::new), float(c.im, String::new)]),
    }
}

/// A float as JSON. `short` gives the digits of a narrower type (empty for float64):
/// the float64 nearest to them prints as the same digits, while the exact widened
/// value would print as e.g. `0.10000000149011612` for float32 `0.1`.
fn float(v: f64, short: impl FnOnce() -> String) -> Json {
    if v.is_nan() {
        return Json::String("nan".to_owned());
    }
    if v.is_infinite() {
        return Json::String(if v > 0.0 { "inf" } else { "-inf" }.to_owned());
    }
    let text = short();
    let v = if text.is_empty() {
        v
    } else {
        text.parse().unwrap_or(v)
    };
    Number::from_f64(v).map_or(Json::Null, Json::Number)
}

/// Builds a JSON object whose keys keep the given order.
pub(crate) fn object<const N: usize>(pairs: [(&str, Json); N]) -> Json {
    Json::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmarray_dtype::{Complex32, f16};

    #[test]
    fn values_follow_the_contract() {
        let text = |v: Value| value(&v).to_string();
        assert_eq!(text(Value::F64(0.1)), "0.1");
        assert_eq!(text(Value::F64(1.0 / 3.0)), "0.3333333333333333");
        assert_eq!(text(Value::F32(0.1)), "0.1");
        assert_eq!(text(Value::F16(f16::from_f32(0.1))), "0.1");
        assert_eq!(text(Value::F64(f64::NAN)), "\"nan\"");
        assert_eq!(text(Value::F32(f32::NEG_INFINITY)), "\"-inf\"");
        assert_eq!(
            text(Value::C64(Complex32::new(1.5, f32::INFINITY))),
            "[1.5,\"inf\"]"
        );
        assert_eq!(text(Value::U64(u64::MAX)), "18446744073709551615");
        assert_eq!(text(Value::I8(-3)), "-3");
        assert_eq!(text(Value::Bool(true)), "true");
    }
}

//! `mmarray-dtype` against numpy itself: dtype spellings, the bytes of every kind in both byte
//! orders, casts between all 196 pairs of kinds, and the text of scalars.
//!
//! Each test runs one python process (see `support/numpy.rs`; `cargo xtask test` provides the
//! venv). Data goes to python as hex and decimal text in its arguments and comes back as lines
//! of hex or text.

#[path = "support/numpy.rs"]
mod numpy;

use std::ffi::OsStr;
use std::fmt::Write as _;

use mmarray_dtype::{
    ByteOrder, Class, Complex64, DType, DTypeError, Kind, Native, cast_slice, decode, dispatch,
    encode,
};

/// Imports and silences numpy's warnings (casting NaN to int, deprecated aliases, ...).
const PRELUDE: &str =
    "import struct, sys, warnings\nimport numpy as np\nwarnings.simplefilter('ignore')\n";

/// Runs `PRELUDE + script` with `args` and returns its output lines.
fn py(script: &str, args: &[String]) -> Vec<String> {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    numpy::run_py(&format!("{PRELUDE}{script}"), &args)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex from python"))
        .collect()
}

/// The machine's byte order (numpy's `=`).
fn native() -> ByteOrder {
    if cfg!(target_endian = "little") {
        ByteOrder::Little
    } else {
        ByteOrder::Big
    }
}

/// Native-order bytes of `values`, hex-encoded, as `descr:hex` for `np.frombuffer`.
fn frombuffer_arg<T: Native>(values: &[T]) -> String {
    let descr = DType::native(T::KIND).descr();
    format!("{descr}:{}", hex(bytemuck::cast_slice(values)))
}

/// A value of `T` from the low `size_of::<T>()` bytes of `bits` (for NaN payloads).
fn from_bits<T: Native>(bits: u128) -> T {
    let size = size_of::<T>();
    let mut bytes = bits.to_le_bytes()[..size].to_vec();
    if native() == ByteOrder::Big {
        bytes.reverse();
    }
    bytemuck::pod_read_unaligned(&bytes)
}

/// A complex value of `T` from the bits of its two parts.
fn complex_from_bits<T: Native>(re: u64, im: u64) -> T {
    let half = size_of::<T>() / 2;
    let mut bytes = Vec::new();
    for part in [re, im] {
        let mut b = part.to_le_bytes()[..half].to_vec();
        if native() == ByteOrder::Big {
            b.reverse();
        }
        bytes.extend(b);
    }
    bytemuck::pod_read_unaligned(&bytes)
}

fn int_range(kind: Kind) -> (i128, i128) {
    let bits = 8 * kind.itemsize() as u32;
    match kind.class() {
        Class::Signed => (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1),
        _ => (0, (1i128 << bits) - 1),
    }
}

/// `v` wrapped into the integer type `T`.
fn wrap_int<T: Native>(v: i128) -> T {
    if v < 0 {
        T::from_i64(v as i64)
    } else {
        T::from_u64(v as u64)
    }
}

const QUIET_NAN_PAYLOAD: u64 = 0x7ff8_4000_0000_0001;
const NEGATIVE_NAN: u64 = 0xfff8_0000_0000_0000;
const SIGNALING_NAN: u64 = 0x7ff4_0000_0000_0000;

// ---------------------------------------------------------------------------------------------
// a. dtype spellings
// ---------------------------------------------------------------------------------------------

/// Candidate dtype strings: names, codes, one-letter codes with and without prefixes, numpy's
/// quirks, unsupported dtypes and junk.
#[rustfmt::skip]
const SPELLINGS: &[&str] = &[
    // names
    "bool", "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128", "byte", "ubyte", "short",
    "ushort", "intc", "uintc", "int", "uint", "long", "ulong", "longlong", "ulonglong", "intp",
    "uintp", "half", "single", "double", "float", "complex", "csingle", "cdouble",
    // names numpy does not take, or not for a supported kind
    "longdouble", "clongdouble", "float128", "complex256", "object", "str", "bytes", "void",
    "datetime64", "timedelta64", "datetime64[ns]", "bool8", "int0", "float_", "complex_",
    "string_", "unicode_", "int128", "uint128", "float8", "Float64", "Int64", "Bool", "FLOAT64",
    " float64", "float64 ", ">float64", "<int32", "=double", "|bool",
    // kind and size
    "b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16", "<f8",
    ">f8", "=f8", "|f8", "<i2", ">i4", "=u8", "|u2", "<b1", ">b1", "|b1", "=b1", "<u1", ">i1",
    "|i1", "<f2", ">f2", "<c8", ">c16", "<c16", ">u8",
    // one-letter codes
    "?", "b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "p", "P", "n", "N", "e", "f", "d",
    "F", "D", ">?", "<b", "|B", ">h", "<H", "=i", ">I", "<l", ">L", "|q", ">Q", "<p", ">P", ">n",
    "<N", ">e", "<f", ">d", "=F", ">D",
    // numpy reads sizes with strtol
    "i08", "f08", "u01", "i 4", "i +4", "i+4", "f 08", "i\t4", "b+1", ">c016", "i-4", "i+ 4",
    "f4 ", "i0000000000000000000000008", "i99999999999999999999",
    // unsupported
    "O", "|O", "<O", "O8", "O4", "O16", "S5", "|S5", "S", "S0", "a", "a5", "c", "<c", "U3", "<U3",
    "U", "U+3", "V4", "|V4", "V", "V0", "M8", "<M8[ns]", "M8[D]", "M", "m8", "<m8[s]", "m", "g",
    "G", "f16", "<f16", ">f16", "f016", "c32", "<c32", "f12", "c24", "T", "f8,i4", "i4,",
    "M8[ns],i4", "(2,)i4", "2i4", "<2i4",
    // junk
    "", " ", "<", ">", "|", "=", "<>f8", "f1", "f3", "i3", "i0", "i16", "u16", "b2", "b0", "c4",
    "?1", "e2", "d8", "B1", "F8", "D8", "x", "u", "k", "r", "f8f8", "f8[2]", "[",
    "[('a', '<i4')]", "{", "()", "0", "8", "i4\n", "mm", "M16", "ui", "\u{e9}",
];

/// Spellings whose meaning numpy 2 changed (mmarray follows numpy 2); skipped with numpy 1.x.
#[rustfmt::skip]
const NUMPY2_ONLY: &[&str] = &[
    "n", ">n", "N", "<N", "T", "long", "ulong", "bool8", "int0", "float_", "complex_", "string_",
    "unicode_", "a", "a5",
];

/// What mmarray's `Unsupported` error should call a dtype numpy reports with `kind`.
fn unsupported_name(kind: &str, compound: bool) -> &str {
    if compound {
        return "structured";
    }
    match kind {
        "O" => "object",
        "S" => "bytes string",
        "U" => "unicode string",
        "V" => "void",
        "M" => "datetime64",
        "m" => "timedelta64",
        "f" => "longdouble",
        "c" => "clongdouble",
        "T" => "StringDType",
        other => other,
    }
}

#[test]
fn dtype_spellings_mean_what_numpy_means() {
    let script = "print(np.__version__)
for s in sys.argv[1:]:
    try:
        d = np.dtype(s)
    except Exception:
        print('ERR')
        continue
    compound = d.fields is not None or d.subdtype is not None
    print(d.str, d.kind, d.itemsize, int(compound), sep='\\t')
";
    let args: Vec<String> = SPELLINGS.iter().map(|s| (*s).to_owned()).collect();
    let lines = py(script, &args);
    assert_eq!(lines.len(), SPELLINGS.len() + 1, "{lines:?}");
    let numpy2 = !lines[0].starts_with("1.");
    let mut failures = Vec::new();
    let (mut supported, mut unsupported, mut rejected) = (0, 0, 0);
    for (&text, line) in SPELLINGS.iter().zip(&lines[1..]) {
        if !numpy2 && NUMPY2_ONLY.contains(&text) {
            continue;
        }
        let ours = DType::parse(text);
        if line == "ERR" {
            rejected += 1;
            if ours.is_ok() {
                failures.push(format!(
                    "{text:?}: numpy rejects it, mmarray gives {ours:?}"
                ));
            }
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [descr, kind, itemsize, compound] = fields[..] else {
            panic!("unexpected line from python: {line:?}");
        };
        let compound = compound == "1";
        let is_supported = !compound
            && matches!(
                (kind, itemsize),
                ("b", "1")
                    | ("i" | "u", "1" | "2" | "4" | "8")
                    | ("f", "2" | "4" | "8")
                    | ("c", "8" | "16")
            );
        if is_supported {
            supported += 1;
            match &ours {
                Ok(d) if d.descr() == descr => {}
                _ => failures.push(format!("{text:?}: numpy {descr}, mmarray {ours:?}")),
            }
        } else {
            unsupported += 1;
            let want = unsupported_name(kind, compound);
            match &ours {
                Err(DTypeError::Unsupported { what, .. }) if *what == want => {}
                _ => failures.push(format!(
                    "{text:?}: numpy {descr} (unsupported {want}), mmarray {ours:?}"
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} spellings differ from numpy {}:\n{}",
        failures.len(),
        SPELLINGS.len(),
        lines[0],
        failures.join("\n")
    );
    println!(
        "spellings: {supported} of supported kinds, {unsupported} unsupported, {rejected} rejected by numpy {}",
        lines[0]
    );
    assert!(supported > 90 && unsupported > 30 && rejected > 40);
}

// ---------------------------------------------------------------------------------------------
// b. bytes of every kind in both byte orders
// ---------------------------------------------------------------------------------------------

/// Bit patterns of the float64 values whose bytes numpy and mmarray must agree on.
fn float_bits() -> Vec<u64> {
    let values = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        0.1,
        1.0 / 3.0,
        2.5,
        100.7,
        65504.0,
        65519.999,
        65520.0,
        1e10,
        1e16,
        1e-5,
        1e-8,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324, // smallest float64 subnormal
        f64::from(f32::MAX),
        f64::from(f32::MIN_POSITIVE),
        f64::from(f32::from_bits(1)), // smallest float32 subnormal
        2f64.powi(-24),               // smallest float16 subnormal
        2f64.powi(-14),               // smallest float16 normal
        3.0 * 2f64.powi(-26),         // between float16 subnormals
        1.0 + 2f64.powi(-11) + 2f64.powi(-40),
    ];
    let mut bits: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
    bits.extend([QUIET_NAN_PAYLOAD, NEGATIVE_NAN, SIGNALING_NAN]);
    bits
}

/// The values of one kind for the bytes test, and the tokens python builds them from.
fn byte_values<T: Native>() -> (Vec<T>, Vec<String>) {
    let kind = T::KIND;
    match kind.class() {
        Class::Bool => (
            vec![T::from_bool(false), T::from_bool(true)],
            vec!["0".into(), "1".into()],
        ),
        Class::Signed | Class::Unsigned => {
            let (min, max) = int_range(kind);
            let ints: Vec<i128> = [
                0,
                1,
                -1,
                2,
                42,
                -42,
                127,
                255,
                256,
                0x1234,
                32767,
                65535,
                0x1234_5678,
                0x0102_0304_0506_0708,
                1 << 53 | 1,
                min,
                max,
                min + 1,
                max - 1,
            ]
            .into_iter()
            .filter(|v| (min..=max).contains(v))
            .collect();
            (
                ints.iter().map(|&v| wrap_int(v)).collect(),
                ints.iter().map(i128::to_string).collect(),
            )
        }
        Class::Float => {
            // numpy converts float64 to float16 in software and keeps a signaling NaN
            // signaling; mmarray returns it quiet (see the crate docs on casting).
            let bits: Vec<u64> = float_bits()
                .into_iter()
                .filter(|&b| kind != Kind::F16 || b != SIGNALING_NAN)
                .collect();
            (
                bits.iter()
                    .map(|&b| T::from_f64(f64::from_bits(b)))
                    .collect(),
                bits.iter().map(|b| format!("{b:016x}")).collect(),
            )
        }
        Class::Complex => {
            let bits = float_bits();
            let pairs: Vec<(u64, u64)> = bits
                .iter()
                .zip(bits.iter().rev())
                .map(|(&re, &im)| (re, im))
                .chain([
                    (1.0f64.to_bits(), 2.0f64.to_bits()),
                    (0, (-0.0f64).to_bits()),
                ])
                .collect();
            (
                pairs
                    .iter()
                    .map(|&(re, im)| {
                        T::from_c128(Complex64::new(f64::from_bits(re), f64::from_bits(im)))
                    })
                    .collect(),
                pairs
                    .iter()
                    .map(|(re, im)| format!("{re:016x},{im:016x}"))
                    .collect(),
            )
        }
    }
}

#[test]
fn bytes_of_every_kind_and_order_match_numpy() {
    let script = "def f(h):
    return struct.unpack('>d', bytes.fromhex(h))[0]
for arg in sys.argv[1:]:
    descr, cls, *toks = arg.split(' ')
    if cls == 'b':
        vals = [t == '1' for t in toks]
    elif cls in 'iu':
        vals = [int(t) for t in toks]
    elif cls == 'f':
        vals = [f(t) for t in toks]
    else:
        vals = [complex(*map(f, t.split(','))) for t in toks]
    print(np.array(vals, dtype=descr).tobytes().hex())
";
    let mut args = Vec::new();
    for kind in Kind::ALL {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let descr = DType::new(kind, order).descr();
            let tokens = dispatch!(kind, T => byte_values::<T>().1);
            args.push(format!("{descr} {} {}", kind.kind_char(), tokens.join(" ")));
        }
    }
    let lines = py(script, &args);
    assert_eq!(lines.len(), args.len());
    let mut lines = lines.iter();
    let mut checked = 0;
    for kind in Kind::ALL {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let numpy_bytes = unhex(lines.next().unwrap());
            dispatch!(kind, T => {
                let (values, _) = byte_values::<T>();
                let mut ours = vec![0u8; numpy_bytes.len()];
                encode(&values, order, &mut ours).unwrap();
                let size = kind.itemsize();
                for (i, (a, b)) in ours.chunks(size).zip(numpy_bytes.chunks(size)).enumerate() {
                    assert_eq!(
                        hex(a),
                        hex(b),
                        "encode {} {:?}: value {:?}",
                        kind,
                        order,
                        values[i]
                    );
                }
                let mut back = vec![T::default(); values.len()];
                decode(&numpy_bytes, order, &mut back).unwrap();
                assert_eq!(
                    hex(bytemuck::cast_slice(&back)),
                    hex(bytemuck::cast_slice(&values)),
                    "decode {kind} {order:?}"
                );
                checked += values.len();
            });
        }
    }
    assert!(checked > 500, "{checked}");
}

// ---------------------------------------------------------------------------------------------
// c. casts between all 196 pairs of kinds
// ---------------------------------------------------------------------------------------------

const CAST_FLOATS: &[f64] = &[
    0.0,
    -0.0,
    0.5,
    -0.5,
    1.5,
    -1.5,
    2.5,
    -2.5,
    0.999,
    -0.999,
    100.7,
    -100.7,
    127.9,
    -128.9,
    255.9,
    300.0,
    -129.0,
    32767.5,
    -1.0,
    65504.0,
    65519.0,
    65519.999,
    65520.0,
    1e10,
    -1e10,
    2_147_483_648.0,
    -2_147_483_649.0,
    4_294_967_295.0,
    9_007_199_254_740_993.0,
    9_223_372_036_854_775_807.0,
    -9_223_372_036_854_775_808.0,
    18_446_744_073_709_551_615.0,
    1e20,
    -1e20,
    // Float -> int edge cases: the low bits of x86-64's 32- and 64-bit conversions.
    128.0,
    -1.5,
    65536.0,
    -65537.0,
    3e9,
    -3e9,
    4_294_967_301.0,
    9_223_372_036_854_775_808.0,
    -9_223_372_036_854_779_904.0,
    1e19,
    -1e19,
    1e300,
    5e-324,
    1e-8,
    1.0 / 3.0,
    0.1,
    f64::MIN_POSITIVE,
    f64::MAX,
    f64::MIN,
    3.402_823_567_797_336_6e38, // rounds to float32 infinity
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

const CAST_INTS: &[i128] = &[
    0,
    1,
    -1,
    2,
    7,
    100,
    127,
    128,
    -128,
    -129,
    255,
    256,
    300,
    -300,
    32767,
    32768,
    -32769,
    65504,
    65519,
    65520,
    65535,
    65536,
    16_777_217,
    2_147_483_647,
    2_147_483_648,
    -2_147_483_649,
    4_294_967_295,
    4_294_967_296,
    9_007_199_254_740_993,
    (1 << 60) + (1 << 36) + 1,
    9_223_372_036_854_775_807,
    -9_223_372_036_854_775_808,
    (1 << 63) + (1 << 39) + 1,
    18_446_744_073_709_551_615,
];

/// The source values of one kind for the cast test.
fn cast_sources<T: Native>() -> Vec<T> {
    match T::KIND.class() {
        Class::Bool => vec![T::from_bool(false), T::from_bool(true)],
        Class::Signed | Class::Unsigned => CAST_INTS.iter().map(|&v| wrap_int(v)).collect(),
        Class::Float => {
            let mut v: Vec<T> = CAST_FLOATS.iter().map(|&x| T::from_f64(x)).collect();
            // NaNs with payloads, written bit by bit: negative, quiet with payload, signaling.
            let (negative, payload, signaling): (u128, u128, u128) = match T::KIND {
                Kind::F16 => (0xfe01, 0x7e10, 0x7d00),
                Kind::F32 => (0xffc0_0001, 0x7fc2_0000, 0x7fa0_0000),
                _ => (
                    NEGATIVE_NAN.into(),
                    QUIET_NAN_PAYLOAD.into(),
                    SIGNALING_NAN.into(),
                ),
            };
            v.extend([negative, payload, signaling].map(from_bits::<T>));
            v
        }
        Class::Complex => {
            let pairs = [
                (0.0, 0.0),
                (-0.0, 0.0),
                (0.0, 1.0),
                (0.0, -0.0),
                (1.5, -2.5),
                (-1.5, 3.0),
                (2.5, 1.0),
                (100.7, -1.0),
                (-100.7, 2.0),
                (300.0, 0.0),
                (-1.0, 0.0),
                (1e10, 1.0),
                (65519.999, 1.0),
                (65520.0, 0.0),
                (1.0 / 3.0, 0.1),
                (f64::NAN, 0.0),
                (0.0, f64::NAN),
                (f64::INFINITY, f64::NEG_INFINITY),
                (f64::NEG_INFINITY, 1.0),
                (1e-8, 1e-8),
                (5e-324, 1.0),
                (f64::MAX, 0.0),
                (1.0 + 2f64.powi(-11) + 2f64.powi(-40), 0.0),
                (-3e9, 1.0),
                (4_294_967_301.0, 0.0),
                (1e19, -1.0),
                (-1e20, 0.0),
                (128.0, 0.0),
                (-1e19, 0.0),
            ];
            let mut v: Vec<T> = pairs
                .iter()
                .map(|&(re, im)| T::from_c128(Complex64::new(re, im)))
                .collect();
            let (nan, one) = if T::KIND == Kind::C64 {
                (0x7fa0_0000, 1.0f32.to_bits().into())
            } else {
                (SIGNALING_NAN, 1.0f64.to_bits())
            };
            v.push(complex_from_bits(nan, one));
            v
        }
    }
}

/// Whether `bits` (of a part of `kind`) is a signaling NaN.
fn is_signaling_nan(kind: Kind, value: f64, bits: u64) -> bool {
    let quiet_bit = match kind {
        Kind::F16 => 0x0200,
        Kind::F32 | Kind::C64 => 0x0040_0000,
        _ => 0x0008_0000_0000_0000,
    };
    value.is_nan() && bits & quiet_bit == 0
}

/// The documented differences from numpy (crate docs, "# Casting"): which row applies to
/// casting `value` from `S` to `D`, if any. These cases are not compared. (Float -> int
/// casts have none: NaN, infinities, negative and huge values are all compared.)
fn documented_difference<S: Native, D: Native>(value: S) -> Option<&'static str> {
    let float_source = matches!(S::KIND.class(), Class::Float | Class::Complex);
    // A signaling NaN to or from float16, or between float32 and complex64: numpy keeps it
    // signaling (software float16 conversion, plain copies); mmarray returns it quiet.
    let float_target = matches!(D::KIND.class(), Class::Float | Class::Complex);
    let pair = [S::KIND, D::KIND];
    let quieting = pair.contains(&Kind::F16)
        || pair == [Kind::F32, Kind::C64]
        || pair == [Kind::C64, Kind::F32];
    if float_source && float_target && quieting && S::KIND != D::KIND {
        let part = &bytemuck::bytes_of(&value)[..S::KIND.swap_unit()];
        let mut bits = [0u8; 8];
        bits[..part.len()].copy_from_slice(part);
        if is_signaling_nan(S::KIND, value.to_f64(), u64::from_ne_bytes(bits)) {
            return Some("signaling NaN -> quiet");
        }
    }
    None
}

#[derive(Default)]
struct CastStats {
    compared: usize,
    /// Of `compared`: float or complex sources into integer kinds.
    float_to_int: usize,
    excluded: std::collections::BTreeMap<&'static str, usize>,
    failures: Vec<String>,
}

fn compare_casts<S: Native, D: Native>(numpy_bytes: &[u8], stats: &mut CastStats) {
    let src = cast_sources::<S>();
    let mut ours = vec![D::zeroed(); src.len()];
    cast_slice(&src, &mut ours).unwrap();
    let size = D::KIND.itemsize();
    assert_eq!(
        numpy_bytes.len(),
        src.len() * size,
        "{} -> {}",
        S::KIND,
        D::KIND
    );
    for ((s, d), want) in src.iter().zip(&ours).zip(numpy_bytes.chunks(size)) {
        if let Some(row) = documented_difference::<S, D>(*s) {
            *stats.excluded.entry(row).or_default() += 1;
            continue;
        }
        stats.compared += 1;
        if matches!(S::KIND.class(), Class::Float | Class::Complex)
            && matches!(D::KIND.class(), Class::Signed | Class::Unsigned)
        {
            stats.float_to_int += 1;
        }
        let got = bytemuck::bytes_of(d);
        if got != want {
            stats.failures.push(format!(
                "{} -> {}: {:?} ({}) gives numpy {:?} ({}), mmarray {:?} ({})",
                S::KIND,
                D::KIND,
                s,
                hex(bytemuck::bytes_of(s)),
                bytemuck::pod_read_unaligned::<D>(want),
                hex(want),
                d,
                hex(got)
            ));
        }
    }
}

#[test]
fn casts_between_all_pairs_match_numpy_except_where_documented() {
    let script = "kinds = sys.argv[1].split(',')
for arg in sys.argv[2:]:
    descr, h = arg.split(':')
    a = np.frombuffer(bytes.fromhex(h), dtype=descr)
    print(' '.join(a.astype(d, casting='unsafe').tobytes().hex() for d in kinds))
";
    let kinds: Vec<String> = Kind::ALL
        .iter()
        .map(|&k| DType::native(k).descr())
        .collect();
    let mut args = vec![kinds.join(",")];
    for kind in Kind::ALL {
        args.push(dispatch!(kind, T => frombuffer_arg(&cast_sources::<T>())));
    }
    let lines = py(script, &args);
    assert_eq!(lines.len(), Kind::ALL.len());
    let mut stats = CastStats::default();
    for (from, line) in Kind::ALL.into_iter().zip(&lines) {
        let results: Vec<&str> = line.split(' ').collect();
        assert_eq!(results.len(), Kind::ALL.len());
        for (to, result) in Kind::ALL.into_iter().zip(results) {
            let numpy_bytes = unhex(result);
            dispatch!(from, S => dispatch!(to, D => compare_casts::<S, D>(&numpy_bytes, &mut stats)));
        }
    }
    let excluded: usize = stats.excluded.values().sum();
    println!(
        "casts: {} compared with numpy ({} float -> int), {excluded} excluded as documented \
         differences {:?}",
        stats.compared, stats.float_to_int, stats.excluded
    );
    assert!(
        stats.failures.is_empty(),
        "{} of {} casts differ from numpy:\n{}",
        stats.failures.len(),
        stats.compared,
        stats.failures.join("\n")
    );
    assert!(stats.compared > 3000, "only {} compared", stats.compared);
    assert!(
        stats.float_to_int > 1500,
        "only {} float -> int casts compared",
        stats.float_to_int
    );
}

/// Float and complex sources cast one by one ([`Native::cast`], which `Value` and the fills
/// use) against numpy's scalar loop, which numpy runs over strided data: every float kind
/// into every integer kind, NaN, infinities, negative and huge values included.
#[test]
fn float_to_int_scalar_casts_match_numpy() {
    let script = "kinds = sys.argv[1].split(',')
for arg in sys.argv[2:]:
    descr, h = arg.split(':')
    a = np.repeat(np.frombuffer(bytes.fromhex(h), dtype=descr), 2)[::2]
    assert not a.flags.c_contiguous
    print(' '.join(a.astype(d, casting='unsafe').tobytes().hex() for d in kinds))
";
    let sources = [Kind::F16, Kind::F32, Kind::F64, Kind::C64, Kind::C128];
    let targets: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| matches!(k.class(), Class::Signed | Class::Unsigned))
        .collect();
    let descrs: Vec<String> = targets.iter().map(|&k| DType::native(k).descr()).collect();
    let mut args = vec![descrs.join(",")];
    for kind in sources {
        args.push(dispatch!(kind, T => frombuffer_arg(&cast_sources::<T>())));
    }
    let lines = py(script, &args);
    assert_eq!(lines.len(), sources.len());
    let mut compared = 0;
    let mut failures = Vec::new();
    for (from, line) in sources.into_iter().zip(&lines) {
        for (&to, result) in targets.iter().zip(line.split(' ')) {
            let want = unhex(result);
            dispatch!(from, S => dispatch!(to, D => {
                let src = cast_sources::<S>();
                assert_eq!(want.len(), src.len() * size_of::<D>());
                for (s, w) in src.iter().zip(want.chunks(size_of::<D>())) {
                    compared += 1;
                    let got: D = s.cast();
                    if bytemuck::bytes_of(&got) != w {
                        failures.push(format!(
                            "{from} -> {to}: {s:?} gives numpy {:?}, mmarray {got:?}",
                            bytemuck::pod_read_unaligned::<D>(w)
                        ));
                    }
                }
            }));
        }
    }
    println!("float -> int scalar casts: {compared} compared with numpy");
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared > 1500, "only {compared} compared");
}

/// The values the crate docs give for float -> int casts on x86-64, so that the table stays
/// true (numpy checks them in the tests above).
#[test]
fn documented_float_to_int_values() {
    let u8s: Vec<u8> = [-1.0, 300.0, 1e20, f64::NAN, f64::INFINITY]
        .map(|v: f64| v.cast())
        .to_vec();
    assert_eq!(u8s, [255, 44, 0, 0, 0]);
    let u64s: Vec<u64> = [
        -1.0,
        2f64.powi(64),
        1e19,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ]
    .map(|v: f64| v.cast())
    .to_vec();
    assert_eq!(
        u64s,
        [u64::MAX, 0, 10_000_000_000_000_000_000, 1 << 63, 0, 1 << 63]
    );
    assert_eq!(1e19f64.cast::<i64>(), i64::MIN);
    assert_eq!(f64::NAN.cast::<i32>(), i32::MIN);
    assert_eq!(128.0f64.cast::<i8>(), -128);
    let scalar: Vec<u32> = [-3e9, 4_294_967_301.0, f64::NAN]
        .map(|v: f64| v.cast())
        .to_vec();
    assert_eq!(scalar, [1_294_967_296, 5, 0]);
    let mut grouped = [0u32; 4];
    cast_slice(&[-3e9, 4_294_967_301.0, f64::NAN, 1.0], &mut grouped).unwrap();
    assert_eq!(grouped, [2_147_483_648, 0, 2_147_483_648, 1]);
}

// ---------------------------------------------------------------------------------------------
// d. scalars as text
// ---------------------------------------------------------------------------------------------

const TEXT_FLOATS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.5,
    0.1,
    0.3,
    1.0 / 3.0,
    2.0 / 3.0,
    2.5,
    33.3,
    100.0,
    100.7,
    3.25,
    123_456_789.0,
    16_777_216.0,
    16_777_217.0,
    9_007_199_254_740_993.0,
    1e15,
    1e16,
    1.234e17,
    1e22,
    1e100,
    1e-4,
    1e-5,
    1.5e-5,
    1.234e-4,
    1e-7,
    1e-300,
    65504.0,
    65520.0,
    6e-8,
    6.1e-5,
    5e-324,
    f64::MAX,
    f64::MIN,
    f32::MAX as f64,
    f32::from_bits(1) as f64,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    -f64::NAN,
];

const TEXT_COMPLEX: &[(f64, f64)] = &[
    (1.0, 2.0),
    (0.0, 2.0),
    (-0.0, -1.0),
    (1.5, -2.5),
    (f64::NAN, f64::INFINITY),
    (f64::INFINITY, f64::NAN),
    (0.1, 0.2),
    (1e16, 1.0),
    (0.0, 0.0),
    (-0.0, 0.0),
    (0.0, -0.0),
    (1e-5, -1e-5),
    (3.0, 0.0),
    (-1.0, -0.0),
    (1.0 / 3.0, 2.0 / 3.0),
    (65504.0, 1e20),
    (f64::NEG_INFINITY, -1e-300),
];

fn text_values<T: Native>() -> Vec<T> {
    let kind = T::KIND;
    match kind.class() {
        Class::Bool => vec![T::from_bool(false), T::from_bool(true)],
        Class::Signed | Class::Unsigned => {
            let (min, max) = int_range(kind);
            [0, 1, -1, 42, -42, min, max, min + 1, max - 1]
                .into_iter()
                .map(wrap_int)
                .collect()
        }
        Class::Float => TEXT_FLOATS.iter().map(|&x| T::from_f64(x)).collect(),
        Class::Complex => TEXT_COMPLEX
            .iter()
            .map(|&(re, im)| T::from_c128(Complex64::new(re, im)))
            .collect(),
    }
}

#[test]
fn scalars_print_as_numpy_str() {
    let script = "print(np.__version__)
for arg in sys.argv[1:]:
    descr, h = arg.split(':')
    for x in np.frombuffer(bytes.fromhex(h), dtype=descr):
        print(str(x))
";
    let args: Vec<String> = Kind::ALL
        .iter()
        .map(|&kind| dispatch!(kind, T => frombuffer_arg(&text_values::<T>())))
        .collect();
    let lines = py(script, &args);
    let mut lines = lines.iter();
    let version = lines.next().expect("numpy's version");
    // numpy 2.2 made float16 and float32 scalars scientific from 1e3 and 1e6 (before: 1e16);
    // mmarray prints as numpy >= 2.2 does.
    let old_layout =
        version.starts_with("1.") || ["2.0.", "2.1."].iter().any(|v| version.starts_with(v));
    let mut failures = Vec::new();
    let mut checked = 0;
    for kind in Kind::ALL {
        dispatch!(kind, T => {
            for v in text_values::<T>() {
                let numpy_text = lines.next().expect("a line per value");
                if old_layout && matches!(kind, Kind::F16 | Kind::F32 | Kind::C64) {
                    continue;
                }
                let ours = v.to_value().to_string();
                checked += 1;
                if ours != *numpy_text {
                    failures.push(format!("{kind} {v:?}: numpy {numpy_text:?}, mmarray {ours:?}"));
                }
            }
        });
    }
    assert!(lines.next().is_none());
    assert!(
        failures.is_empty(),
        "{} of {checked} scalars print differently from numpy {version}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// numpy's contiguous float/complex -> uint32 loop computes groups of four its own way and
/// leaves the end of the array to the scalar rule (`n % 4` items for floats, one to four for
/// complex, all of a complex128 array of at most five): [`cast_slice`] of arrays of every
/// length from 1 to 13 of values that do not fit gives numpy's bytes.
#[test]
fn float_to_uint32_array_ends_match_numpy() {
    let script = "for arg in sys.argv[1:]:
    descr, n, v = arg.split(':')
    a = np.full(int(n), float(v), dtype=descr)
    print(a.astype('=u4').tobytes().hex())
";
    let values = [-3e9, f64::NAN, 4_294_967_301.0, f64::NEG_INFINITY, -1e19];
    let kinds = [Kind::F32, Kind::F64, Kind::C64, Kind::C128];
    let mut args = Vec::new();
    for kind in kinds {
        for n in 1..=13 {
            for v in values {
                args.push(format!("{}:{n}:{v:?}", DType::native(kind).descr()));
            }
        }
    }
    let lines = py(script, &args);
    assert_eq!(lines.len(), args.len());
    let mut compared = 0;
    let mut line = lines.iter();
    for kind in kinds {
        for n in 1..=13 {
            for v in values {
                let want = unhex(line.next().unwrap());
                let mut got = vec![0u32; n];
                dispatch!(kind, S => cast_slice(&vec![S::from_f64(v); n], &mut got).unwrap());
                compared += n;
                assert_eq!(
                    bytemuck::cast_slice::<u32, u8>(&got),
                    &want[..],
                    "{kind} x {n} of {v}"
                );
            }
        }
    }
    println!("float -> uint32 at array ends: {compared} values compared with numpy");
}

//! numpy interop for `.npy` headers: numpy writes headers for many (dtype, shape, order,
//! version) combinations in one python run; `header_bytes` must reproduce numpy's version 1.0
//! (automatic) headers byte for byte, `parse_header` must read every header numpy writes
//! (1.0, 2.0, 3.0), and `regrow_header` must give numpy's header for the grown shape.

#[path = "../../mmarray-dtype/tests/support/numpy.rs"]
mod numpy;

use std::ffi::OsString;

use mmarray_core::npy::{
    ARRAY_ALIGN, GROWTH_AXIS_MAX_DIGITS, HeaderError, header_bytes, parse_header, regrow_header,
};
use mmarray_dtype::{ByteOrder, DType, Kind};

/// For each argument `mode;descr;shape;order;version`, writes a header with numpy and prints
/// `<hex of the header bytes> <fortran_order numpy wrote (0/1)>`.
///
/// - mode `save`: `np.save` (version `auto`) or `write_array(version=...)` of
///   `np.zeros(shape, descr, order)`; the header is what precedes the data. numpy writes
///   `fortran_order: True` only for arrays that are not also C-contiguous, hence the flag.
/// - mode `dict`: numpy's header writer with the dict as given (any shape, no array), which is
///   what `np.save` and `open_memmap` call.
const SCRIPT: &str = r"
import io, sys, warnings
import numpy as np
try:
    from numpy.lib import _format_impl as F
except ImportError:
    from numpy.lib import format as F
warnings.simplefilter('ignore')
out = []
for arg in sys.argv[1:]:
    mode, descr, shape, order, version = arg.split(';')
    shape = tuple(int(x) for x in shape.split(',') if x)
    fortran = order == 'F'
    version = None if version == 'auto' else (int(version), 0)
    buf = io.BytesIO()
    if mode == 'save':
        a = np.zeros(shape, dtype=np.dtype(descr), order=order)
        if version is None:
            np.save(buf, a)
        else:
            F.write_array(buf, a, version=version)
        data = buf.getvalue()
        header = data[:len(data) - a.nbytes]
        fortran = a.flags.f_contiguous and not a.flags.c_contiguous
    else:
        F._write_array_header(buf, {'descr': descr, 'fortran_order': fortran, 'shape': shape}, version)
        header = buf.getvalue()
    out.append(header.hex() + ' ' + str(int(fortran)))
print('\n'.join(out))
";

#[derive(Debug, Clone)]
struct Case {
    mode: &'static str,
    dtype: DType,
    shape: Vec<usize>,
    fortran: bool,
    /// `None`: numpy's automatic choice (1.0, or 2.0 when needed).
    version: Option<u8>,
}

impl Case {
    fn arg(&self) -> OsString {
        let shape: Vec<String> = self.shape.iter().map(ToString::to_string).collect();
        let version = self.version.map_or("auto".to_owned(), |v| v.to_string());
        let order = if self.fortran { "F" } else { "C" };
        format!(
            "{};{};{};{order};{version}",
            self.mode,
            self.dtype.descr(),
            shape.join(",")
        )
        .into()
    }
}

/// numpy's output for each case: (header bytes, the `fortran_order` numpy wrote).
fn run(cases: &[Case]) -> Vec<(Vec<u8>, bool)> {
    let args: Vec<OsString> = cases.iter().map(Case::arg).collect();
    let args: Vec<&std::ffi::OsStr> = args.iter().map(OsString::as_os_str).collect();
    let out = numpy::run_py(SCRIPT, &args);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), cases.len(), "one line per case");
    lines
        .iter()
        .map(|line| {
            let (hex, fortran) = line.split_once(' ').unwrap();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (bytes, fortran == "1")
        })
        .collect()
}

/// Every supported dtype in both byte orders (one-byte kinds once).
fn all_dtypes() -> Vec<DType> {
    let mut dtypes = Vec::new();
    for kind in Kind::ALL {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let dtype = DType::new(kind, order);
            if !dtypes.contains(&dtype) {
                dtypes.push(dtype);
            }
        }
    }
    assert_eq!(dtypes.len(), 25);
    dtypes
}

/// Whether the data of `shape` fits in `isize` (what `parse_header` requires).
fn fits(shape: &[usize], itemsize: usize) -> bool {
    shape
        .iter()
        .filter(|&&n| n != 0)
        .try_fold(itemsize as u128, |acc, &n| acc.checked_mul(n as u128))
        .is_some_and(|bytes| bytes <= isize::MAX as u128)
}

fn dict(dtype: DType, shape: &[usize], fortran: bool, version: Option<u8>) -> Case {
    Case {
        mode: "dict",
        dtype,
        shape: shape.to_vec(),
        fortran,
        version,
    }
}

/// Same table as in `npy_header.rs` (numpy's `test_header_growth_axis`, adapted).
const GROWTH_TABLE: [(bool, &str, &[usize], usize); 4] = [
    (false, "<f8", &[100, 100, 100, 100, 100, 100, 10000], 128),
    (false, "<c16", &[100, 100, 100, 100, 100, 100, 10000], 192),
    (true, "<c16", &[100, 100, 100, 100, 100, 100, 10000], 128),
    (true, "<c16", &[100, 100, 100, 100, 100, 100, 100_000], 192),
];

/// The cases of `headers_match_numpy`, and where the growth table and the automatic 2.0 cases
/// start in the list.
fn header_cases() -> (Vec<Case>, usize, usize) {
    let shapes: &[&[usize]] = &[
        &[],
        &[0],
        &[3],
        &[3, 4],
        &[0, 5],
        &[5, 0],
        &[2, 3, 4],
        &[2, 0, 3],
        &[1, 1, 1, 1, 1, 1],
        &[4, 1, 2],
    ];
    let mut cases = Vec::new();
    // What np.save / write_array write for real arrays: every dtype, shape, order, version.
    for dtype in all_dtypes() {
        for shape in shapes {
            for fortran in [false, true] {
                for version in [None, Some(1), Some(2), Some(3)] {
                    cases.push(Case {
                        mode: "save",
                        dtype,
                        shape: shape.to_vec(),
                        fortran,
                        version,
                    });
                }
            }
        }
    }
    // Header-only cases: large axes, 0-d Fortran, many dimensions.
    let f8: DType = "<f8".parse().unwrap();
    let be: DType = ">c16".parse().unwrap();
    for fortran in [false, true] {
        for shape in [
            &[][..],
            &[1_000_000_000_000, 3],
            &[3, 1_000_000_000_000],
            &[usize::MAX],
            &[1 << 40, 1 << 40],
            &[7; 20],
            &[0, 123_456_789, 0],
        ] {
            for version in [None, Some(2), Some(3)] {
                cases.push(dict(f8, shape, fortran, version));
                cases.push(dict(be, shape, fortran, version));
            }
        }
    }
    // numpy's test_header_growth_axis, adapted to '<f8' / '<c16'.
    let growth_start = cases.len();
    for (fortran, descr, extra, _) in GROWTH_TABLE {
        for exp in 0..GROWTH_AXIS_MAX_DIGITS as u32 - 1 {
            let size = 10usize.pow(exp);
            let shape: Vec<usize> = if fortran {
                extra.iter().copied().chain([2, size]).collect()
            } else {
                [size, 2].into_iter().chain(extra.iter().copied()).collect()
            };
            cases.push(dict(descr.parse().unwrap(), &shape, fortran, None));
        }
    }
    // Headers over 64 KiB: numpy falls back to version 2.0 by itself.
    let v2_start = cases.len();
    cases.push(dict(f8, &vec![1; 22_000], false, None));
    cases.push(dict(be, &vec![2; 22_000], true, None));
    (cases, growth_start, v2_start)
}

#[test]
fn headers_match_numpy() {
    let (cases, growth_start, v2_start) = header_cases();
    let numpy = run(&cases);
    for (i, (case, (bytes, numpy_fortran))) in cases.iter().zip(&numpy).enumerate() {
        let what = format!("{case:?} -> {:?}", String::from_utf8_lossy(bytes));
        assert_eq!(bytes.len() % ARRAY_ALIGN, 0, "{what}");
        if case.mode == "dict" {
            assert_eq!(*numpy_fortran, case.fortran);
        }
        let expected_version = match case.version {
            Some(v) => (v, 0),
            None if i >= v2_start => (2, 0),
            None => (1, 0),
        };
        assert_eq!((bytes[6], bytes[7]), expected_version, "{what}");

        // We write what numpy writes whenever numpy chooses the version.
        if case.version.is_none() || case.version == Some(1) {
            let ours = header_bytes(case.dtype, &case.shape, *numpy_fortran).unwrap();
            assert!(
                ours == *bytes,
                "{what}\nours: {:?}",
                String::from_utf8_lossy(&ours)
            );
        }

        // We read everything numpy writes.
        match parse_header(bytes, usize::MAX) {
            Ok(h) => {
                assert!(fits(&case.shape, case.dtype.itemsize()), "{what}");
                assert_eq!(h.version, expected_version, "{what}");
                assert_eq!(h.dtype, case.dtype, "{what}");
                assert_eq!(h.shape, case.shape, "{what}");
                assert_eq!(h.fortran_order, *numpy_fortran, "{what}");
                assert_eq!(h.data_offset, bytes.len(), "{what}");
            }
            Err(HeaderError::SizeOverflow { .. }) => {
                assert!(!fits(&case.shape, case.dtype.itemsize()), "{what}");
            }
            Err(e) => panic!("{what}: {e}"),
        }
    }
    // The growth-axis table: numpy's lengths.
    for (row, (_, _, _, total)) in GROWTH_TABLE.iter().enumerate() {
        let start = growth_start + row * (GROWTH_AXIS_MAX_DIGITS - 1);
        for (bytes, _) in &numpy[start..start + GROWTH_AXIS_MAX_DIGITS - 1] {
            assert_eq!(bytes.len(), *total, "growth table row {row}");
        }
    }
}

#[test]
fn regrow_gives_numpys_header_for_the_grown_shape() {
    let f8: DType = "<f8".parse().unwrap();
    let i2: DType = ">i2".parse().unwrap();
    let u1: DType = "|u1".parse().unwrap();
    let c8: DType = "<c8".parse().unwrap();
    // (old, new): numpy writes both; regrowing numpy's old header must give numpy's new one.
    let pairs = [
        (
            Case {
                mode: "save",
                dtype: f8,
                shape: vec![3, 4],
                fortran: false,
                version: None,
            },
            dict(f8, &[1_000_000_000_000_000, 4], false, None),
        ),
        (
            Case {
                mode: "save",
                dtype: i2,
                shape: vec![4, 3],
                fortran: true,
                version: None,
            },
            dict(i2, &[4, 1_000_000_000_000], true, None),
        ),
        (
            Case {
                mode: "save",
                dtype: u1,
                shape: vec![0, 3],
                fortran: false,
                version: Some(2),
            },
            dict(u1, &[20_000, 3], false, Some(2)),
        ),
        (
            Case {
                mode: "save",
                dtype: c8,
                shape: vec![2, 3],
                fortran: false,
                version: Some(3),
            },
            dict(c8, &[123_456_789, 3], false, Some(3)),
        ),
    ];
    let cases: Vec<Case> = pairs
        .iter()
        .flat_map(|(old, new)| [old.clone(), new.clone()])
        .collect();
    let numpy = run(&cases);
    for (pair, ((old_bytes, _), (new_bytes, _))) in pairs
        .iter()
        .zip(numpy.iter().step_by(2).zip(numpy.iter().skip(1).step_by(2)))
    {
        let old = parse_header(old_bytes, usize::MAX).unwrap();
        let ours = regrow_header(&old, old_bytes, &pair.1.shape).unwrap();
        assert!(
            ours == *new_bytes,
            "{pair:?}\nours:  {:?}\nnumpy: {:?}",
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(new_bytes)
        );
    }
}

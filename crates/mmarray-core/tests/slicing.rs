//! numpy basic indexing, checked against a naive reference over random shapes, orders, byte
//! orders and index specs: shapes and values of slices and slices of slices, errors, the
//! decomposition into runs and segments (every element exactly once, mapped back to its
//! logical position), and writes through mutable slices (`fill`, `assign_slice`, `assign`,
//! segment-wise writes) changing exactly the selected elements.
//!
//! The source arrays hold their memory position as value, so a value says where an element
//! lives in memory, and the reference can compute what every view must show.

use mmarray_core::{Error, Index, Order, Spec, View, ViewMut};
use mmarray_dtype::ByteOrder;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The naive reference

/// An array in logical C order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Nd {
    shape: Vec<usize>,
    data: Vec<u32>,
}

/// Python's `range(*slice(start, stop, step).indices(len))`, written after `CPython`'s
/// `PySlice_AdjustIndices`, independently of mmarray's code.
fn py_slice(len: usize, start: Option<isize>, stop: Option<isize>, step: isize) -> Vec<usize> {
    assert_ne!(step, 0);
    let len = len as isize;
    let (lower, upper) = if step < 0 { (-1, len - 1) } else { (0, len) };
    let adjust = |v: Option<isize>, default: isize| match v {
        None => default,
        Some(v) if v < 0 => (v + len).max(lower),
        Some(v) => v.min(upper),
    };
    let start = adjust(start, if step < 0 { upper } else { lower });
    let stop = adjust(stop, if step < 0 { lower } else { upper });
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(i as usize);
        i += step;
    }
    out
}

/// numpy's basic indexing of `nd` by `spec`; `None` where numpy raises `IndexError`.
fn reference(nd: &Nd, spec: &[Index]) -> Option<Nd> {
    let ndim = nd.shape.len();
    let explicit = spec.iter().filter(|i| **i != Index::Ellipsis).count();
    if explicit > ndim {
        return None;
    }
    let mut expanded = Vec::new();
    for index in spec {
        if *index == Index::Ellipsis {
            expanded.extend(std::iter::repeat_n(Index::ALL, ndim - explicit));
        } else {
            expanded.push(*index);
        }
    }
    expanded.resize(ndim, Index::ALL);

    // Per axis: the source positions it selects, and whether the axis is kept.
    let mut axes: Vec<(Vec<usize>, bool)> = Vec::new();
    for (index, &n) in expanded.iter().zip(&nd.shape) {
        match *index {
            Index::Int(i) => {
                let j = if i < 0 { i + n as isize } else { i };
                if j < 0 || j >= n as isize {
                    return None;
                }
                axes.push((vec![j as usize], false));
            }
            Index::Slice { start, stop, step } => axes.push((py_slice(n, start, stop, step), true)),
            Index::Ellipsis => unreachable!(),
        }
    }
    let shape: Vec<usize> = axes.iter().filter(|a| a.1).map(|a| a.0.len()).collect();
    // C-order strides of the source, in elements.
    let mut strides = vec![1usize; ndim];
    for a in (0..ndim.saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * nd.shape[a + 1];
    }
    let mut data = Vec::new();
    let mut counter = vec![0usize; ndim];
    if axes.iter().all(|a| !a.0.is_empty()) {
        loop {
            let flat: usize = (0..ndim).map(|a| axes[a].0[counter[a]] * strides[a]).sum();
            data.push(nd.data[flat]);
            // Odometer over the selected positions, last axis fastest.
            let mut a = ndim;
            loop {
                if a == 0 {
                    return Some(Nd { shape, data });
                }
                a -= 1;
                counter[a] += 1;
                if counter[a] < axes[a].0.len() {
                    break;
                }
                counter[a] = 0;
            }
        }
    }
    Some(Nd { shape, data })
}

/// Every multi-index of `shape` in C order.
fn multi_indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|mut k| {
            let mut idx = vec![0; shape.len()];
            for a in (0..shape.len()).rev() {
                idx[a] = k % shape[a];
                k /= shape[a];
            }
            idx
        })
        .collect()
}

/// The source: a contiguous array of `shape` in `order` whose element at memory position `p`
/// is `p`; returns its bytes (in `byte_order`) and its logical (C-order) contents.
fn source(shape: &[usize], order: Order, byte_order: ByteOrder) -> (Vec<u8>, Nd) {
    let n: usize = shape.iter().product();
    let bytes = (0..n as u32).flat_map(|p| encode(p, byte_order)).collect();
    let data = multi_indices(shape)
        .into_iter()
        .map(|idx| {
            // Memory position of `idx`: C or F linear index.
            let mut pos = 0;
            let axes: Vec<usize> = match order {
                Order::C => (0..shape.len()).collect(),
                Order::F => (0..shape.len()).rev().collect(),
            };
            for a in axes {
                pos = pos * shape[a] + idx[a];
            }
            pos as u32
        })
        .collect();
    (
        bytes,
        Nd {
            shape: shape.to_vec(),
            data,
        },
    )
}

fn encode(v: u32, order: ByteOrder) -> [u8; 4] {
    match order {
        ByteOrder::Little => v.to_le_bytes(),
        ByteOrder::Big => v.to_be_bytes(),
    }
}

fn decode(bytes: &[u8], order: ByteOrder) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| {
            let c: [u8; 4] = c.try_into().unwrap();
            match order {
                ByteOrder::Little => u32::from_le_bytes(c),
                ByteOrder::Big => u32::from_be_bytes(c),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Checks of one view against the reference

/// Everything a view must agree with the reference on.
fn check_view(v: &View<'_, u32>, want: &Nd, byte_order: ByteOrder, max_elems: usize) {
    assert_eq!(v.shape(), want.shape);
    assert_eq!(v.ndim(), want.shape.len());
    assert_eq!(v.len(), want.data.len());
    assert_eq!(v.is_empty(), want.data.is_empty());
    assert_eq!(v.to_vec(), want.data);
    assert_eq!(v.iter().collect::<Vec<_>>(), want.data);
    assert_eq!(v.iter().len(), want.data.len());
    for (idx, &value) in multi_indices(&want.shape).iter().zip(&want.data) {
        assert_eq!(v.get(idx).unwrap(), value, "get({idx:?})");
    }
    if let Some(slice) = v.as_slice() {
        assert_eq!(slice, want.data);
        assert!(v.is_c_contiguous());
    }
    if let Some(&last) = want.shape.last() {
        let mut bad = vec![0; want.shape.len()];
        *bad.last_mut().unwrap() = last;
        assert!(v.get(&bad).is_err(), "index past the end");
    }
    assert!(v.get(&vec![0; want.shape.len() + 1]).is_err());

    // Runs: every element exactly once, each mapped back to its logical position.
    let runs = v.runs();
    assert_eq!(runs.len() * runs.run_len(), want.data.len());
    assert_eq!(runs.is_empty(), want.data.is_empty());
    let mut seen = vec![0u8; want.data.len()];
    let mut idx = vec![0; want.shape.len()];
    for k in 0..runs.len() {
        let values = decode(v.run_bytes(&runs, k), byte_order);
        assert_eq!(values.len(), runs.run_len());
        for (j, &value) in values.iter().enumerate() {
            let c = runs.c_index(k, j);
            assert_eq!(want.data[c], value, "run {k} element {j} -> c index {c}");
            if runs.is_c_linear() {
                assert_eq!(c, k * runs.run_len() + j);
            }
            runs.multi_index(k, j, &mut idx);
            assert_eq!(v.get(&idx).unwrap(), value);
            seen[c] += 1;
        }
    }
    assert!(
        seen.iter().all(|&s| s == 1),
        "runs must cover each element once: {seen:?}"
    );

    // Segments: the same, piece by piece; no piece longer than asked (when runs are split).
    let segs = v.segments(max_elems);
    let mut seen = vec![0u8; want.data.len()];
    let mut total = 0;
    let mut multiset = Vec::new();
    for i in 0..segs.len() {
        let mut in_segment = 0;
        for piece in segs.pieces(i) {
            let values = decode(v.piece_bytes(segs.runs(), piece), byte_order);
            assert_eq!(values.len(), piece.len);
            assert!(piece.len > 0);
            for (j, &value) in values.iter().enumerate() {
                let c = segs.runs().c_index(piece.run, piece.start + j);
                assert_eq!(want.data[c], value);
                seen[c] += 1;
            }
            in_segment += piece.len;
            total += piece.len;
            multiset.extend(values);
        }
        assert!(
            in_segment <= max_elems.max(runs.run_len()),
            "segment {i} has {in_segment}"
        );
    }
    assert_eq!(total, want.data.len());
    assert!(seen.iter().all(|&s| s == 1));
    multiset.sort_unstable();
    let mut expected = want.data.clone();
    expected.sort_unstable();
    assert_eq!(multiset, expected);
}

// ---------------------------------------------------------------------------------------------
// Strategies

fn index() -> impl Strategy<Value = Index> {
    let bound = || proptest::option::of(-9isize..=9);
    prop_oneof![
        // Mostly in range of the small axes; sometimes out of range.
        3 => prop_oneof![4 => -3isize..3, 1 => -8isize..8].prop_map(Index::Int),
        4 => (bound(), bound(), prop_oneof![Just(1isize), Just(-1), -4isize..=4])
            .prop_filter_map("step 0", |(start, stop, step)| {
                (step != 0).then_some(Index::Slice { start, stop, step })
            }),
        1 => Just(Index::Ellipsis),
    ]
}

/// A spec with at most one ellipsis (later ones become `:`).
fn spec() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(index(), 0..=4).prop_map(|mut v| {
        let mut seen = false;
        for i in &mut v {
            if *i == Index::Ellipsis {
                if seen {
                    *i = Index::ALL;
                }
                seen = true;
            }
        }
        v
    })
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..=6, 0..=4)
}

fn order() -> impl Strategy<Value = Order> {
    prop_oneof![Just(Order::C), Just(Order::F)]
}

fn byte_order() -> impl Strategy<Value = ByteOrder> {
    prop_oneof![Just(ByteOrder::Little), Just(ByteOrder::Big)]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1000,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(config())]

    #[test]
    fn slices_match_numpy(
        shape in shape(),
        order in order(),
        bo in byte_order(),
        spec1 in spec(),
        spec2 in spec(),
        max_elems in 1usize..=9,
    ) {
        let (bytes, nd) = source(&shape, order, bo);
        let v = View::<u32>::from_bytes(&bytes, &shape, order, bo).unwrap();
        check_view(&v, &nd, bo, max_elems);

        let want = reference(&nd, &spec1);
        let got = v.slice(spec1.clone());
        let (Some(want), Ok(got)) = (&want, &got) else {
            prop_assert!(want.is_none(), "numpy accepts {spec1:?} on {shape:?}: {got:?}");
            prop_assert!(matches!(got, Err(Error::Index(_))), "{got:?}");
            return Ok(());
        };
        check_view(got, want, bo, max_elems);

        // The same spec as text gives the same view.
        let text = Spec::new(spec1.clone()).unwrap().to_string();
        let again = v.slice(text.as_str()).unwrap();
        prop_assert_eq!(again.shape(), got.shape());
        prop_assert_eq!(again.strides(), got.strides());
        prop_assert_eq!(again.to_vec(), got.to_vec());

        // A view of the view.
        match (reference(want, &spec2), got.slice(spec2.clone())) {
            (Some(want2), Ok(got2)) => check_view(&got2, &want2, bo, max_elems),
            (None, Err(Error::Index(_))) => {}
            (w, g) => prop_assert!(false, "{spec2:?} of {spec1:?} on {shape:?}: {w:?} vs {g:?}"),
        }
    }

    #[test]
    fn writes_through_slices_change_exactly_the_selection(
        shape in shape(),
        order in order(),
        bo in byte_order(),
        spec in spec(),
        max_elems in 1usize..=9,
    ) {
        let (original, nd) = source(&shape, order, bo);
        let Some(want) = reference(&nd, &spec) else {
            let mut bytes = original.clone();
            let v = ViewMut::<u32>::from_bytes(&mut bytes, &shape, order, bo).unwrap();
            prop_assert!(matches!(v.slice_mut(spec.clone()), Err(Error::Index(_))));
            return Ok(());
        };
        // Memory positions of the selection, in logical order (the source holds positions).
        let selected = &want.data;
        let expect = |f: &dyn Fn(usize) -> Option<u32>| -> Vec<u32> {
            let mut mem: Vec<u32> = (0..original.len() as u32 / 4).collect();
            for (i, &p) in selected.iter().enumerate() {
                if let Some(v) = f(i) {
                    mem[p as usize] = v;
                }
            }
            mem
        };

        // fill
        let mut bytes = original.clone();
        let v = ViewMut::<u32>::from_bytes(&mut bytes, &shape, order, bo).unwrap();
        let mut s = v.slice_mut(spec.clone()).unwrap();
        prop_assert_eq!(s.shape(), &want.shape[..]);
        s.fill(0xdead_beef);
        prop_assert_eq!(s.view().to_vec(), vec![0xdead_beef; selected.len()]);
        prop_assert_eq!(decode(&bytes, bo), expect(&|_| Some(0xdead_beef)));

        // assign_slice, in logical order; a wrong length changes nothing.
        let mut bytes = original.clone();
        let v = ViewMut::<u32>::from_bytes(&mut bytes, &shape, order, bo).unwrap();
        let mut s = v.slice_mut(spec.clone()).unwrap();
        let values: Vec<u32> = (0..selected.len() as u32).map(|i| 1_000_000 + i).collect();
        let wrong = vec![7; selected.len() + 1];
        prop_assert!(matches!(s.assign_slice(&wrong), Err(Error::Shape(_))));
        if !selected.is_empty() {
            prop_assert!(matches!(s.assign_slice(&wrong[2..]), Err(Error::Shape(_))));
        }
        prop_assert_eq!(s.view().to_vec(), reference(&nd, &spec).unwrap().data);
        s.assign_slice(&values).unwrap();
        prop_assert_eq!(s.view().to_vec(), values.clone());
        prop_assert_eq!(decode(&bytes, bo), expect(&|i| Some(1_000_000 + i as u32)));

        // assign from another view of the same shape, with another layout and byte order.
        let mut bytes = original.clone();
        let v = ViewMut::<u32>::from_bytes(&mut bytes, &shape, order, bo).unwrap();
        let mut s = v.slice_mut(spec.clone()).unwrap();
        let other_bo = if bo == ByteOrder::Little { ByteOrder::Big } else { ByteOrder::Little };
        let src_bytes: Vec<u8> = values.iter().flat_map(|&x| encode(x + 5, other_bo)).collect();
        let src = View::<u32>::from_bytes(&src_bytes, &want.shape, Order::C, other_bo).unwrap();
        s.assign(&src).unwrap();
        prop_assert_eq!(decode(&bytes, bo), expect(&|i| Some(1_000_005 + i as u32)));

        // Segment-wise writes (as ops do in parallel): each element gets its logical index.
        let mut bytes = original.clone();
        let v = ViewMut::<u32>::from_bytes(&mut bytes, &shape, order, bo).unwrap();
        let s = v.into_slice(spec.clone()).unwrap();
        let segments = s.into_segments(max_elems);
        let (left, right) = segments.split_at(1);
        for part in [right, left] {
            part.for_each_piece(|runs, piece, piece_bytes| {
                for (j, chunk) in piece_bytes.chunks_exact_mut(4).enumerate() {
                    let c = runs.c_index(piece.run, piece.start + j);
                    chunk.copy_from_slice(&encode(2_000_000 + c as u32, bo));
                }
            });
        }
        prop_assert_eq!(decode(&bytes, bo), expect(&|i| Some(2_000_000 + i as u32)));
    }
}

// ---------------------------------------------------------------------------------------------
// A few cases written out, as numpy gives them

#[test]
fn known_cases() {
    let (bytes, _) = source(&[3, 4, 5], Order::C, ByteOrder::Little);
    let v = View::<u32>::from_bytes(&bytes, &[3, 4, 5], Order::C, ByteOrder::Little).unwrap();
    // np.arange(60).reshape(3, 4, 5)[...]
    let cases: &[(&str, &[usize], &[u32])] = &[
        ("1, 2, 3", &[], &[33]),
        ("-1, -1, -1", &[], &[59]),
        (
            "..., 0",
            &[3, 4],
            &[0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55],
        ),
        (
            "0, ..., ::-2",
            &[4, 3],
            &[4, 2, 0, 9, 7, 5, 14, 12, 10, 19, 17, 15],
        ),
        ("::-1, 3, 1:3", &[3, 2], &[56, 57, 36, 37, 16, 17]),
        ("1:2, 10:, :", &[1, 0, 5], &[]),
        ("-100:100:50, 0, 0", &[1], &[0]),
        ("::-100, 0, 0", &[1], &[40]),
        (
            ":, :, 4:-10:-2",
            &[3, 4, 3],
            &[
                4, 2, 0, 9, 7, 5, 14, 12, 10, 19, 17, 15, 24, 22, 20, 29, 27, 25, 34, 32, 30, 39,
                37, 35, 44, 42, 40, 49, 47, 45, 54, 52, 50, 59, 57, 55,
            ],
        ),
        ("...", &[3, 4, 5], &[]),
    ];
    for &(spec, shape, values) in cases {
        let s = v.slice(spec).unwrap();
        assert_eq!(s.shape(), shape, "{spec}");
        if spec != "..." {
            assert_eq!(s.to_vec(), values, "{spec}");
        }
    }
    for bad in [
        "3",
        "0, 4",
        "0, 0, 5",
        "-4",
        "0, 0, 0, 0",
        "..., 0, 0, 0, 0",
        "0, ..., ...",
        "::0",
    ] {
        assert!(v.slice(bad).is_err(), "{bad}");
    }
    // Slices of 0-d views.
    let one = [7u8, 0, 0, 0];
    let z = View::<u32>::from_bytes(&one, &[], Order::C, ByteOrder::Little).unwrap();
    assert_eq!(z.slice("").unwrap().to_vec(), [7]);
    assert_eq!(z.slice("...").unwrap().shape(), [0usize; 0]);
    assert!(z.slice(":").is_err());
}

/// Index errors are data (axis, index, size, counts) and keep numpy's messages.
#[test]
fn index_errors_carry_their_fields_and_numpy_messages() {
    use mmarray_core::{IndexError, s};
    let bytes = [0u8; 24];
    let v = View::<u8>::from_bytes(&bytes, &[2, 3, 4], Order::C, ByteOrder::Little).unwrap();
    let cases: [(Error, IndexError, &str); 7] = [
        (
            v.slice(s![.., -4]).unwrap_err(),
            IndexError::OutOfBounds {
                index: -4,
                axis: 1,
                size: 3,
            },
            "index error: index -4 is out of bounds for axis 1 with size 3",
        ),
        (
            v.slice(s![..., 4]).unwrap_err(),
            IndexError::OutOfBounds {
                index: 4,
                axis: 2,
                size: 4,
            },
            "index error: index 4 is out of bounds for axis 2 with size 4",
        ),
        (
            v.get(&[1, 3, 0]).unwrap_err(),
            IndexError::OutOfBounds {
                index: 3,
                axis: 1,
                size: 3,
            },
            "index error: index 3 is out of bounds for axis 1 with size 3",
        ),
        (
            v.get(&[0, usize::MAX, 0]).unwrap_err(),
            IndexError::OutOfBounds {
                index: i128::from(u64::MAX),
                axis: 1,
                size: 3,
            },
            "index error: index 18446744073709551615 is out of bounds for axis 1 with size 3",
        ),
        (
            v.slice("0, 0, 0, 0").unwrap_err(),
            IndexError::TooMany { ndim: 3, given: 4 },
            "index error: too many indices for array: array is 3-dimensional, but 4 were indexed",
        ),
        (
            v.get(&[0, 0]).unwrap_err(),
            IndexError::WrongCount { ndim: 3, given: 2 },
            "index error: 2 indices given for an array of 3 dimensions",
        ),
        (
            v.slice(Index::Slice {
                start: None,
                stop: None,
                step: 0,
            })
            .unwrap_err(),
            IndexError::ZeroStep,
            "index error: slice step cannot be zero",
        ),
    ];
    for (err, fields, message) in cases {
        assert_eq!(err.to_string(), message);
        match err {
            Error::Index(e) => assert_eq!(e, fields, "{message}"),
            other => panic!("{other:?}"),
        }
    }
    let err = v.slice("1:x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "index error: invalid index \"1:x\": \"x\" is not an integer"
    );
    match err {
        Error::Index(IndexError::Spec(e)) => assert_eq!(e.text, "1:x"),
        other => panic!("{other:?}"),
    }
}

//! Fuzzes opening a file: the `.npy` header and raw-layout checks of
//! `DynArray::open_with`, on a real temporary file, then reading what was opened.
//!
//! Input: one byte of flags, one byte of dtype, two bytes of raw offset and up to three
//! two-byte raw axis lengths (all used only for raw layouts), then the file's bytes.
//!
//! Checks, besides "no panic, no signal, no huge allocation": an opened array's data lies
//! within the file; every element can be read and printed; a copy-on-write mapping never
//! changes the file; and appending either fails leaving a file that opens with the old
//! shape, or succeeds leaving one that opens with the new shape.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use mmarray_core::{CopyOnWrite, DynArray, OpenOptions, Order, Raw, ReadOnly, ReadWrite, print};
use mmarray_dtype::{ByteOrder, DType, Kind, dispatch};

/// This process's scratch file, removed when dropped (after each input).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let name = format!("mmarray-fuzz-open-{}.bin", std::process::id());
        Scratch(std::env::temp_dir().join(name))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reads every element (through the codecs) and prints the array as numpy would.
fn exercise(array: &DynArray<ReadOnly>) {
    dispatch!(array.dtype().kind(), T => {
        let view = array.view::<T>().expect("the dtype's own type");
        let n = view.iter().take(1 << 16).count();
        assert_eq!(n, view.len().min(1 << 16));
        let _ = print::repr(&view, "memmap");
        if view.ndim() > 0 {
            let reversed = view.slice("..., ::-1").expect("valid for ndim >= 1");
            assert_eq!(reversed.len(), view.len());
            let _ = reversed.iter().take(1 << 10).count();
        }
    });
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 10 {
        return;
    }
    let (head, contents) = data.split_at(10);
    let flags = head[0];
    let kind = Kind::ALL[usize::from(head[1]) % Kind::ALL.len()];
    let byte_order = if head[1] & 0x80 == 0 {
        ByteOrder::Little
    } else {
        ByteOrder::Big
    };
    let offset = u64::from(u16::from_le_bytes([head[2], head[3]])) % 4096;
    let dims = [
        usize::from(u16::from_le_bytes([head[4], head[5]])),
        usize::from(u16::from_le_bytes([head[6], head[7]])),
        usize::from(u16::from_le_bytes([head[8], head[9]])),
    ];
    let raw = flags & 1 == 1;
    let mut options = OpenOptions::new();
    if raw {
        let order = if flags & 2 == 0 { Order::C } else { Order::F };
        let mut layout = Raw::new(DType::new(kind, byte_order))
            .offset(offset)
            .order(order);
        let ndim = usize::from((flags >> 2) & 3);
        if ndim > 0 {
            layout = layout.shape(dims[..ndim].to_vec());
        }
        options = options.raw(layout);
    } else if flags & 2 != 0 {
        options = options.max_header_size(usize::MAX);
    }

    let scratch = Scratch::new();
    let path = &scratch.0;
    std::fs::write(path, contents).expect("write the scratch file");

    // SAFETY: the scratch file is private to this process and not modified while mapped.
    let opened = unsafe { DynArray::<ReadOnly>::open_with(path, &options) };
    let Ok(array) = opened else {
        assert_eq!(
            std::fs::read(path).unwrap(),
            contents,
            "a refused open changed the file"
        );
        return;
    };
    let end = array.layout().data_offset + array.nbytes() as u64;
    assert!(
        end <= contents.len() as u64,
        "data past the end of the file"
    );
    let shape = array.shape().to_vec();
    exercise(&array);
    drop(array);

    // Copy-on-write: writes stay in memory.
    // SAFETY: as above.
    if let Ok(mut cow) = unsafe { DynArray::<CopyOnWrite>::open_with(path, &options) } {
        cow.bytes_mut().fill(0xa5);
        cow.close().expect("closing a copy-on-write array");
    }
    assert_eq!(
        std::fs::read(path).unwrap(),
        contents,
        "copy-on-write changed the file"
    );

    // Appending keeps the file loadable with the old or the new length.
    if flags & 0x10 != 0 && !raw {
        let rows = usize::from(flags >> 5);
        // SAFETY: as above.
        let mut rw = unsafe { DynArray::<ReadWrite>::open_with(path, &options) }
            .expect("what opens read-only opens read-write");
        let grown = rw.append_zeroed(rows);
        rw.close().expect("close after append");
        // SAFETY: as above.
        let again = unsafe { DynArray::<ReadOnly>::open_with(path, &options) }
            .expect("the file opens after an append, failed or not");
        let mut expected = shape.clone();
        if let Ok(range) = grown {
            let axis = again
                .layout()
                .growth_axis()
                .expect("grown arrays have an axis");
            expected[axis] = range.end;
        }
        assert_eq!(again.shape(), expected.as_slice());
        exercise(&again);
    }
});

//! Fuzzes the `.npy` header parser with arbitrary bytes.
//!
//! Besides "never panics, never allocates in proportion to a claimed length", it checks
//! what a successful parse promises: the data offset lies within the input, the byte size
//! fits `isize`, `read_header` (the streaming reader) agrees with `parse_header` (the slice
//! parser), and the header mmarray would write for the same dtype, shape and order parses
//! back to them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mmarray_core::npy::{MAX_HEADER_SIZE, header_bytes, parse_header, read_header};

fuzz_target!(|data: &[u8]| {
    for cap in [MAX_HEADER_SIZE, usize::MAX] {
        let parsed = parse_header(data, cap);
        let mut reader = data;
        let streamed = read_header(&mut reader, data.len() as u64, cap);
        match (&parsed, &streamed) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "parse_header and read_header disagree"),
            (Err(_), Err(_)) => {}
            _ => panic!("parse_header: {parsed:?}\nread_header: {streamed:?}"),
        }
        let Ok(h) = parsed else { continue };
        assert!(h.data_offset <= data.len());
        let nbytes = h.data_len().expect("a parsed header's byte size fits u64");
        assert!(isize::try_from(nbytes).is_ok());
        // What mmarray writes for this header reads back as the same array.
        let written = header_bytes(h.dtype, &h.shape, h.fortran_order).expect("writable");
        let again = parse_header(&written, usize::MAX).expect("own header parses");
        assert_eq!(
            (again.dtype, again.fortran_order, &again.shape),
            (h.dtype, h.fortran_order, &h.shape)
        );
        assert_eq!(again.data_offset % 64, 0);
    }
});

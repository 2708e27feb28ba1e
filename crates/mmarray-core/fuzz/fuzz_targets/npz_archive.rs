//! Fuzzes `.npz` archives: the strict zip parser of `mmarray_core::npz`, inflating, and
//! writing stored members in place.
//!
//! The input is the archive's bytes (seed it with `crates/mmarray-cli/tests/hostile/*.npz`
//! and archives numpy writes). Checks, besides "no panic, no signal, no huge allocation":
//! every member the archive lists lies within the file; every member that opens reads
//! fully and holds the bytes its header announces; a writable opening that writes nothing
//! leaves the file unchanged; one that writes leaves an archive that still lists the same
//! members and whose member reads back what was written.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use mmarray_core::npz::Archive;
use mmarray_core::{DynArray, OpenOptions, ReadOnly, ReadWrite};

/// This process's scratch file, removed when dropped (after each input).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("mmarray-fuzz-npz-{}.npz", std::process::id()));
    let scratch = Scratch(path);
    std::fs::write(&scratch.0, data).expect("scratch file");
    let Ok(archive) = Archive::open(&scratch.0) else {
        return;
    };
    let names: Vec<String> = archive.members().iter().map(|m| m.name.clone()).collect();
    for m in archive.members() {
        assert!(m.member_offset + m.compressed_size <= data.len() as u64);
        if let Some(offset) = m.data_offset() {
            assert!(offset + m.nbytes() <= data.len() as u64);
        }
    }
    for name in &names {
        let options = OpenOptions::new().member(name.clone());
        // SAFETY: the scratch file is private to this process.
        if let Ok(a) = unsafe { DynArray::<ReadOnly>::open_with(&scratch.0, &options) } {
            assert_eq!(a.nbytes() as u64, archive.member(name).unwrap().nbytes());
            let _ = a.bytes().iter().fold(0u8, |x, &b| x ^ b);
        }
        // SAFETY: as above.
        let Ok(w) = (unsafe { DynArray::<ReadWrite>::open_with(&scratch.0, &options) }) else {
            assert_eq!(std::fs::read(&scratch.0).unwrap(), data);
            continue;
        };
        w.close().expect("close");
        assert_eq!(
            std::fs::read(&scratch.0).unwrap(),
            data,
            "an opening that wrote nothing changed the file"
        );
        // SAFETY: as above.
        let mut w =
            unsafe { DynArray::<ReadWrite>::open_with(&scratch.0, &options) }.expect("reopens");
        for b in w.bytes_mut() {
            *b = b.wrapping_add(1);
        }
        let written = w.bytes().to_vec();
        w.close().expect("close");
        let again = Archive::open(&scratch.0).expect("still an archive");
        let again_names: Vec<&str> = again.members().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            again_names,
            names.iter().map(String::as_str).collect::<Vec<_>>()
        );
        // SAFETY: as above.
        let r = unsafe { DynArray::<ReadWrite>::open_with(&scratch.0, &options) }
            .expect("the CRC was updated, so it opens for writing again");
        assert_eq!(r.bytes(), written.as_slice());
        r.close().expect("close");
        std::fs::write(&scratch.0, data).expect("restore");
    }
});

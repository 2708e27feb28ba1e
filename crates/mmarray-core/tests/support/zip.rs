//! A tiny independent zip writer for tests: builds `.npz` archives member by member
//! (stored or deflated, as Python's zipfile writes them without extras) and the
//! hostile variants of them, by editing the bytes at the offsets it reports.
//!
//! Include it with `#[path = "../../mmarray-core/tests/support/zip.rs"] mod zip;`.

#![allow(dead_code)]

use std::io::Write;

/// An archive and where its records are.
pub(crate) struct Built {
    /// The archive's bytes.
    pub(crate) bytes: Vec<u8>,
    /// Offset of each member's local header.
    pub(crate) local: Vec<usize>,
    /// Offset of each member's central directory entry.
    pub(crate) central: Vec<usize>,
    /// Offset of the end of central directory record.
    pub(crate) end: usize,
}

/// One member: its file name in the archive, its (uncompressed) bytes, deflated or not.
pub(crate) struct Member {
    pub(crate) name: Vec<u8>,
    pub(crate) bytes: Vec<u8>,
    pub(crate) deflate: bool,
}

impl Member {
    pub(crate) fn stored(name: &str, bytes: Vec<u8>) -> Member {
        Member {
            name: format!("{name}.npy").into_bytes(),
            bytes,
            deflate: false,
        }
    }

    pub(crate) fn deflated(name: &str, bytes: Vec<u8>) -> Member {
        Member {
            name: format!("{name}.npy").into_bytes(),
            bytes,
            deflate: true,
        }
    }
}

pub(crate) fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

pub(crate) fn crc(bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(bytes);
    h.finalize()
}

/// A `.npy` file (numpy's header) with these data bytes.
pub(crate) fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = mmarray_core::npy::header_bytes(descr.parse().unwrap(), shape, false).unwrap();
    out.extend_from_slice(data);
    out
}

/// A `.npy` file of little-endian float64 values.
pub(crate) fn npy_f8(values: &[f64]) -> Vec<u8> {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    npy("<f8", &[values.len()], &data)
}

pub(crate) fn set16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn set32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// The archive holding `members`, in order, then the central directory and the end record.
pub(crate) fn build(members: &[Member]) -> Built {
    let mut bytes = Vec::new();
    let mut local = Vec::new();
    let mut records = Vec::new();
    for m in members {
        let payload = if m.deflate {
            deflate(&m.bytes)
        } else {
            m.bytes.clone()
        };
        let (method, crc) = (if m.deflate { 8u16 } else { 0 }, crc(&m.bytes));
        local.push(bytes.len());
        records.push((bytes.len(), method, crc, payload.len(), m.bytes.len()));
        bytes.extend(0x0403_4b50u32.to_le_bytes());
        bytes.extend(20u16.to_le_bytes());
        bytes.extend(0u16.to_le_bytes());
        bytes.extend(method.to_le_bytes());
        bytes.extend([0, 0, 0x21, 0]);
        bytes.extend(crc.to_le_bytes());
        bytes.extend((payload.len() as u32).to_le_bytes());
        bytes.extend((m.bytes.len() as u32).to_le_bytes());
        bytes.extend((m.name.len() as u16).to_le_bytes());
        bytes.extend(0u16.to_le_bytes());
        bytes.extend(&m.name);
        bytes.extend(&payload);
    }
    let cd_offset = bytes.len();
    let mut central = Vec::new();
    for (m, &(lho, method, crc, csize, size)) in members.iter().zip(&records) {
        central.push(bytes.len());
        bytes.extend(0x0201_4b50u32.to_le_bytes());
        bytes.extend(20u16.to_le_bytes());
        bytes.extend(20u16.to_le_bytes());
        bytes.extend(0u16.to_le_bytes());
        bytes.extend(method.to_le_bytes());
        bytes.extend([0, 0, 0x21, 0]);
        bytes.extend(crc.to_le_bytes());
        bytes.extend((csize as u32).to_le_bytes());
        bytes.extend((size as u32).to_le_bytes());
        bytes.extend((m.name.len() as u16).to_le_bytes());
        bytes.extend([0u8; 12]);
        bytes.extend((lho as u32).to_le_bytes());
        bytes.extend(&m.name);
    }
    let cd_size = bytes.len() - cd_offset;
    let end = bytes.len();
    bytes.extend(0x0605_4b50u32.to_le_bytes());
    bytes.extend([0u8; 4]);
    bytes.extend((members.len() as u16).to_le_bytes());
    bytes.extend((members.len() as u16).to_le_bytes());
    bytes.extend((cd_size as u32).to_le_bytes());
    bytes.extend((cd_offset as u32).to_le_bytes());
    bytes.extend(0u16.to_le_bytes());
    Built {
        bytes,
        local,
        central,
        end,
    }
}

/// Hostile archives: (file name, bytes, a word the error must contain).
#[allow(clippy::too_many_lines)]
#[allow(clippy::many_single_char_names)]
pub(crate) fn hostile_archives() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let x = || Member::stored("x", npy_f8(&[1.0, 2.0, 3.0]));
    let y = || Member::stored("y", npy_f8(&[4.0]));
    let z = || Member::deflated("z", npy_f8(&[0.5; 64]));
    let good = build(&[x(), y()]);
    let mut cases: Vec<(&'static str, Vec<u8>, &'static str)> = Vec::new();
    let edit = |f: &dyn Fn(&mut Built)| {
        let mut b = build(&[x(), y()]);
        f(&mut b);
        b.bytes
    };
    let edit_z = |f: &dyn Fn(&mut Built)| {
        let mut b = build(&[z()]);
        f(&mut b);
        b.bytes
    };
    // ---- the end of central directory record
    cases.push((
        "end-missing.npz",
        good.bytes[..good.end].to_vec(),
        "end of central directory",
    ));
    cases.push((
        "end-cut.npz",
        good.bytes[..good.bytes.len() - 5].to_vec(),
        "end of central directory",
    ));
    cases.push((
        "only-local-magic.npz",
        [b"PK\x03\x04".as_slice(), &[0; 60]].concat(),
        "end of central directory",
    ));
    cases.push((
        "end-trailing-garbage.npz",
        [good.bytes.as_slice(), b"garbage"].concat(),
        "end of central directory",
    ));
    cases.push((
        "end-comment-past-eof.npz",
        edit(&|b| set16(&mut b.bytes, b.end + 20, 40)),
        "end of central directory",
    ));
    cases.push((
        "directory-offset-past-eof.npz",
        edit(&|b| {
            let e = b.end;
            set32(&mut b.bytes, e + 16, 1 << 30);
        }),
        "central directory",
    ));
    cases.push((
        "directory-size-too-large.npz",
        edit(&|b| {
            let e = b.end;
            let v = get32(&b.bytes, e + 12);
            set32(&mut b.bytes, e + 12, v + 1000);
        }),
        "central directory",
    ));
    cases.push((
        "data-before-archive.npz",
        {
            let mut v = b"MZ-prefix".to_vec();
            v.extend(&good.bytes);
            v
        },
        "not a .npy file",
    ));
    cases.push((
        "count-absurd.npz",
        edit(&|b| {
            let e = b.end;
            set16(&mut b.bytes, e + 8, 0xfffe);
            set16(&mut b.bytes, e + 10, 0xfffe);
        }),
        "claims 65534 members",
    ));
    cases.push((
        "count-too-small.npz",
        edit(&|b| {
            let e = b.end;
            set16(&mut b.bytes, e + 8, 1);
            set16(&mut b.bytes, e + 10, 1);
        }),
        "after its 1 entries",
    ));
    cases.push((
        "zip64-missing.npz",
        edit(&|b| {
            let e = b.end;
            set32(&mut b.bytes, e + 16, u32::MAX);
        }),
        "zip64",
    ));
    cases.push((
        "zip64-locator-wrong.npz",
        {
            // A zip64 locator before the end record, pointing nowhere useful.
            let mut v = good.bytes[..good.end].to_vec();
            v.extend(0x0706_4b50u32.to_le_bytes());
            v.extend(0u32.to_le_bytes());
            v.extend(12345u64.to_le_bytes());
            v.extend(1u32.to_le_bytes());
            v.extend(&good.bytes[good.end..]);
            v
        },
        "zip64 locator",
    ));
    cases.push((
        "zip64-extra-missing.npz",
        edit(&|b| {
            let c = b.central[0];
            set32(&mut b.bytes, c + 24, u32::MAX);
        }),
        "no zip64 extra field",
    ));
    cases.push((
        "multi-disk.npz",
        edit(&|b| {
            let e = b.end;
            set16(&mut b.bytes, e + 4, 1);
        }),
        "multi-disk",
    ));
    // ---- central directory entries
    cases.push((
        "central-bad-signature.npz",
        edit(&|b| {
            let c = b.central[1];
            b.bytes[c] = b'X';
        }),
        "signature",
    ));
    cases.push((
        "encrypted.npz",
        edit(&|b| {
            let (c, l) = (b.central[0], b.local[0]);
            set16(&mut b.bytes, c + 8, 1);
            set16(&mut b.bytes, l + 6, 1);
        }),
        "encrypted",
    ));
    cases.push((
        "method-bzip2.npz",
        edit(&|b| {
            let (c, l) = (b.central[0], b.local[0]);
            set16(&mut b.bytes, c + 10, 12);
            set16(&mut b.bytes, l + 8, 12);
        }),
        "bzip2",
    ));
    cases.push((
        "method-lzma.npz",
        edit(&|b| {
            let c = b.central[1];
            set16(&mut b.bytes, c + 10, 14);
        }),
        "lzma",
    ));
    cases.push((
        "name-not-utf8.npz",
        {
            let mut m = x();
            m.name = b"\xff\xfe.npy".to_vec();
            build(&[m]).bytes
        },
        "not UTF-8",
    ));
    cases.push((
        "name-not-npy.npz",
        {
            let mut m = x();
            m.name = b"x.txt".to_vec();
            build(&[m]).bytes
        },
        "not a .npy member",
    ));
    cases.push(("name-twice.npz", build(&[x(), x()]).bytes, "appears twice"));
    // ---- local headers
    cases.push((
        "local-crc-differs.npz",
        edit(&|b| {
            let l = b.local[0];
            let v = get32(&b.bytes, l + 14);
            set32(&mut b.bytes, l + 14, v ^ 1);
        }),
        "disagrees with the central directory",
    ));
    cases.push((
        "local-name-differs.npz",
        edit(&|b| {
            let l = b.local[1];
            b.bytes[l + 30] = b'q';
        }),
        "local header",
    ));
    cases.push((
        "local-method-differs.npz",
        edit(&|b| {
            let l = b.local[0];
            set16(&mut b.bytes, l + 8, 8);
        }),
        "compression method",
    ));
    cases.push((
        "local-offset-wrong.npz",
        edit(&|b| {
            let c = b.central[1];
            set32(&mut b.bytes, c + 42, 7);
        }),
        "local header",
    ));
    cases.push((
        "local-offset-past-directory.npz",
        edit(&|b| {
            let c = b.central[1];
            set32(&mut b.bytes, c + 42, 1 << 30);
        }),
        "not before the central directory",
    ));
    // ---- sizes
    cases.push((
        "size-compressed-past-eof.npz",
        edit(&|b| {
            let (c, l) = (b.central[1], b.local[1]);
            for at in [c + 20, c + 24, l + 18, l + 22] {
                set32(&mut b.bytes, at, 1 << 31);
            }
        }),
        "run past",
    ));
    cases.push((
        "size-stored-differ.npz",
        edit(&|b| {
            let (c, l) = (b.central[0], b.local[0]);
            let v = get32(&b.bytes, c + 24);
            set32(&mut b.bytes, c + 24, v - 8);
            set32(&mut b.bytes, l + 22, v - 8);
        }),
        "sizes differ",
    ));
    cases.push((
        "size-short-of-header.npz",
        {
            // A stored member that holds less than its .npy header announces.
            let mut bytes = npy_f8(&[1.0, 2.0, 3.0]);
            bytes.truncate(bytes.len() - 8);
            build(&[Member::stored("x", bytes)]).bytes
        },
        "header needs",
    ));
    cases.push((
        "overlapping-members.npz",
        {
            // Member "b" lies inside member "a"'s data, as in overlapping zip bombs.
            let inner = build(&[Member::stored("b", npy_f8(&[7.0]))]);
            let inner_local = inner.bytes[..inner.central[0]].to_vec();
            let a = npy("|u1", &[inner_local.len()], &inner_local);
            let mut outer = build(&[Member::stored("a", a.clone())]);
            // Where "b"'s local header lies in the archive.
            let b_at = outer.local[0] + 30 + 5 + (a.len() - inner_local.len());
            // Append a central entry for "b" pointing inside "a".
            let cd_at = outer.central[0];
            let mut entry = inner.bytes[inner.central[0]..inner.end].to_vec();
            set32(&mut entry, 42, b_at as u32);
            let end = outer.end;
            let mut bytes = outer.bytes[..end].to_vec();
            bytes.extend(&entry);
            let mut tail = outer.bytes[end..].to_vec();
            set16(&mut tail, 8, 2);
            set16(&mut tail, 10, 2);
            set32(&mut tail, 12, (end - cd_at + entry.len()) as u32);
            bytes.extend(tail);
            outer.bytes = bytes;
            outer.bytes
        },
        "overlapping",
    ));
    // ---- deflated members
    cases.push((
        "deflate-ratio-bomb.npz",
        edit_z(&|b| {
            let (c, l) = (b.central[0], b.local[0]);
            set32(&mut b.bytes, c + 24, u32::MAX - 1);
            set32(&mut b.bytes, l + 22, u32::MAX - 1);
        }),
        "zip bomb",
    ));
    cases.push((
        "inflate-more.npz",
        {
            // An 8-element header, then a megabyte of zeros in the deflate stream; the
            // archive declares only the header and the 8 elements.
            let mut bytes = npy_f8(&[0.0; 8]);
            let declared = bytes.len();
            bytes.extend(vec![0u8; 1 << 20]);
            let mut b = build(&[Member::deflated("z", bytes)]);
            let (c, l) = (b.central[0], b.local[0]);
            set32(&mut b.bytes, c + 24, declared as u32);
            set32(&mut b.bytes, l + 22, declared as u32);
            b.bytes
        },
        "more than its declared",
    ));
    cases.push((
        "inflate-less.npz",
        {
            // The stream inflates to 200 bytes; the archive declares 208.
            let mut b = build(&[Member::deflated("z", npy_f8(&[0.0; 9]))]);
            let (c, l) = (b.central[0], b.local[0]);
            let v = get32(&b.bytes, c + 24) + 8;
            set32(&mut b.bytes, c + 24, v);
            set32(&mut b.bytes, l + 22, v);
            b.bytes
        },
        "inflates to",
    ));
    cases.push((
        "inflate-crc-wrong.npz",
        edit_z(&|b| {
            let (c, l) = (b.central[0], b.local[0]);
            let v = get32(&b.bytes, c + 16) ^ 0x8000;
            set32(&mut b.bytes, c + 16, v);
            set32(&mut b.bytes, l + 14, v);
        }),
        "CRC-32",
    ));
    cases.push((
        "inflate-truncated.npz",
        {
            // The deflate stream is cut in half: the header inflates, the data does not.
            let values: Vec<f64> = (0..4096).map(|i| f64::from(i % 7)).collect();
            let mut b = build(&[Member::deflated("z", npy_f8(&values))]);
            let (c, l) = (b.central[0], b.local[0]);
            let half = get32(&b.bytes, c + 20) / 2;
            set32(&mut b.bytes, c + 20, half);
            set32(&mut b.bytes, l + 18, half);
            // Move the central directory to right after the shortened data.
            let data_end = l + 30 + 5 + half as usize;
            let mut v = b.bytes[..data_end].to_vec();
            let cd = b.bytes[c..].to_vec();
            let new_cd = v.len();
            v.extend(cd);
            let end = v.len() - 22;
            set32(&mut v, end + 16, new_cd as u32);
            v
        },
        "invalid deflate data",
    ));
    cases.push((
        "deflate-garbage.npz",
        edit_z(&|b| {
            let l = b.local[0];
            for i in 0..16 {
                b.bytes[l + 30 + 5 + i] = 0xff;
            }
        }),
        "member \"z\"",
    ));
    // ---- the .npy inside
    cases.push((
        "member-not-npy.npz",
        build(&[Member::stored(
            "x",
            b"not an npy file at all, just text".to_vec(),
        )])
        .bytes,
        "not a .npy file",
    ));
    cases.push((
        "member-bad-descr.npz",
        build(&[Member::stored("x", npy("<f8", &[1], &[0; 8])).with(|m| {
            let at = m.bytes.windows(3).position(|w| w == b"<f8").unwrap();
            m.bytes[at..at + 3].copy_from_slice(b"|O8");
        })])
        .bytes,
        "object",
    ));
    cases
}

impl Member {
    fn with(mut self, f: impl Fn(&mut Member)) -> Member {
        f(&mut self);
        self
    }
}

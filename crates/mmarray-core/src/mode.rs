//! Access modes as types: [`ReadOnly`] (`r`), [`ReadWrite`] (`r+`, `w+`) and
//! [`CopyOnWrite`] (`c`).
//!
//! The mode is a type parameter of the array, so that a read-only array has no
//! method that writes (see [`Mode`]).

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapMut, MmapOptions};

/// The mapping behind an array.
#[derive(Debug)]
pub(crate) enum Map {
    /// Nothing mapped (an array without data bytes).
    Empty,
    /// A read-only shared mapping.
    Ro(Mmap),
    /// A writable mapping, shared or private.
    Mut(MmapMut),
}

impl Map {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Map::Empty => &[],
            Map::Ro(m) => m,
            Map::Mut(m) => m,
        }
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Map::Mut(m) => m,
            // Writable modes always map with `Map::Mut`; the others have no `&mut` access.
            Map::Empty | Map::Ro(_) => &mut [],
        }
    }
}

pub(crate) mod private {
    use super::{File, Map, io};

    /// Seals [`Mode`](super::Mode) and holds the mapping call, which is crate-private.
    pub trait Sealed {
        /// Maps `len` bytes of `file` from `offset`.
        ///
        /// # Safety
        ///
        /// As [`memmap2::MmapOptions::map`]: the file must not be modified or
        /// truncated by anyone else while the mapping lives.
        unsafe fn map(file: &File, offset: u64, len: usize) -> io::Result<Map>;
    }
}

/// An access mode. Sealed: the modes are [`ReadOnly`], [`ReadWrite`] and [`CopyOnWrite`].
///
/// The mode is a type parameter of the array, so that a read-only array has no
/// method that writes: trying is a compile error, not a run-time one. This
/// compiles with [`ReadWrite`] (and [`CopyOnWrite`]):
///
/// ```
/// use mmarray_core::{Array, DynArray, ReadWrite, s};
/// fn write(a: &mut Array<f64, ReadWrite>, d: &mut DynArray<ReadWrite>) -> mmarray_core::Result<()> {
///     a.view_mut().fill(1.0);
///     a.slice_mut(s![..1])?.fill(2.0);
///     a.append(&[3.0])?;
///     d.bytes_mut()[0] = 0;
///     Ok(())
/// }
/// ```
///
/// and each of these, the same with [`ReadOnly`], does not (error E0599: no such
/// method, or "its trait bounds were not satisfied" for `M: Writable`):
///
/// ```compile_fail,E0599
/// # use mmarray_core::{Array, ReadOnly};
/// fn write(a: &mut Array<f64, ReadOnly>) {
///     a.view_mut().fill(1.0); // no writable view of a read-only array
/// }
/// ```
///
/// ```compile_fail,E0599
/// # use mmarray_core::{Array, ReadOnly, s};
/// fn write(a: &mut Array<f64, ReadOnly>) -> mmarray_core::Result<()> {
///     a.slice_mut(s![..1])?.fill(2.0); // nor of a part of it
///     Ok(())
/// }
/// ```
///
/// ```compile_fail,E0599
/// # use mmarray_core::{Array, ReadOnly};
/// fn write(a: &mut Array<f64, ReadOnly>) -> mmarray_core::Result<()> {
///     a.append(&[3.0])?; // a read-only file never grows
///     Ok(())
/// }
/// ```
///
/// ```compile_fail,E0599
/// # use mmarray_core::{DynArray, ReadOnly};
/// fn write(d: &mut DynArray<ReadOnly>) {
///     d.bytes_mut()[0] = 0; // nor are its bytes writable
/// }
/// ```
///
/// A [`View`](crate::View) (what `view()` and `slice()` give, in any mode) only reads:
///
/// ```compile_fail,E0599
/// # use mmarray_core::{Array, ReadWrite};
/// fn write(a: &Array<f64, ReadWrite>) {
///     a.view().fill(1.0); // `fill` is a method of ViewMut
/// }
/// ```
pub trait Mode: private::Sealed + Send + Sync + 'static {
    /// numpy's name of the mode: `"r"`, `"r+"` or `"c"`.
    const NAME: &'static str;
    /// Whether writes reach the file.
    const WRITES_FILE: bool;
    /// Whether the mapping shows the file's pages, so that reading the file gives
    /// the mapped bytes (`r` and `r+`; not `c`, whose changes are private).
    const SHARED: bool;
}

/// A mode whose arrays can be written (`&mut` views): [`ReadWrite`] and [`CopyOnWrite`].
pub trait Writable: Mode {}

/// Read-only (`r`): the file is never written, grown or truncated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOnly;

/// Read-write (`r+`; also what creating a file, `w+`, gives): writes reach the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadWrite;

/// Copy-on-write (`c`): writable in memory, changes never reach the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CopyOnWrite;

impl Mode for ReadOnly {
    const NAME: &'static str = "r";
    const WRITES_FILE: bool = false;
    const SHARED: bool = true;
}

impl private::Sealed for ReadOnly {
    unsafe fn map(file: &File, offset: u64, len: usize) -> io::Result<Map> {
        if len == 0 {
            return Ok(Map::Empty);
        }
        // SAFETY: forwarded to the caller.
        unsafe { MmapOptions::new().offset(offset).len(len).map(file) }.map(Map::Ro)
    }
}

impl Mode for ReadWrite {
    const NAME: &'static str = "r+";
    const WRITES_FILE: bool = true;
    const SHARED: bool = true;
}

impl private::Sealed for ReadWrite {
    unsafe fn map(file: &File, offset: u64, len: usize) -> io::Result<Map> {
        if len == 0 {
            return Ok(Map::Empty);
        }
        // SAFETY: forwarded to the caller.
        unsafe { MmapOptions::new().offset(offset).len(len).map_mut(file) }.map(Map::Mut)
    }
}

impl Mode for CopyOnWrite {
    const NAME: &'static str = "c";
    const WRITES_FILE: bool = false;
    const SHARED: bool = false;
}

impl private::Sealed for CopyOnWrite {
    unsafe fn map(file: &File, offset: u64, len: usize) -> io::Result<Map> {
        if len == 0 {
            return Ok(Map::Empty);
        }
        // SAFETY: forwarded to the caller.
        unsafe { MmapOptions::new().offset(offset).len(len).map_copy(file) }.map(Map::Mut)
    }
}

impl Writable for ReadWrite {}
impl Writable for CopyOnWrite {}

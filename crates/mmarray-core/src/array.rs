//! [`DynArray`] (dtype known at run time) and [`Array`] (element type known at
//! compile time): N-d arrays mapped from files.

use std::fmt;
use std::fs::{File, OpenOptions as FsOpenOptions};
use std::marker::PhantomData;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use mmarray_dtype::{DType, Element};

use crate::format::{Format, Layout, Npy, Raw};
use crate::geometry::{Geometry, Order};
use crate::mode::private::Sealed;
use crate::mode::{Map, Mode, ReadOnly, ReadWrite, Writable};
use crate::registry::Registration;
use crate::view::{View, ViewMut};
use crate::{Error, Result, ShapeError, staging, sys};

/// How to read an existing file: as `.npy` (the default, recognised by its magic),
/// as a member of an `.npz` archive (recognised by the zip magic, whatever the file's
/// name; [`member`](OpenOptions::member) picks the member), or as raw data, and with
/// which header-size cap.
///
/// ```
/// use mmarray_core::{OpenOptions, Raw};
/// let npy = OpenOptions::new().max_header_size(1 << 20);
/// let raw = OpenOptions::new().raw(Raw::new("<f4".parse()?).offset(128));
/// let member = OpenOptions::new().member("weights");
/// # let _ = (npy, raw, member);
/// # Ok::<(), mmarray_dtype::DTypeError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    max_header_size: Option<usize>,
    raw: Option<Raw>,
    member: Option<String>,
}

impl OpenOptions {
    /// `.npy`, numpy's 10000-byte header cap.
    #[must_use]
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Lifts (or lowers) the cap on the `.npy` header text.
    #[must_use]
    pub fn max_header_size(mut self, bytes: usize) -> OpenOptions {
        self.max_header_size = Some(bytes);
        self
    }

    /// Reads the file as raw (headerless) data with this layout.
    #[must_use]
    pub fn raw(mut self, raw: Raw) -> OpenOptions {
        self.raw = Some(raw);
        self
    }

    /// Opens the member `name` (without `.npy`) of an `.npz` archive. An archive with
    /// one member opens it without this option; with several, this option is needed.
    /// Giving it for a file that is not an archive is an error.
    #[must_use]
    pub fn member(mut self, name: impl Into<String>) -> OpenOptions {
        self.member = Some(name.into());
        self
    }

    /// The one place where the format of an existing file is chosen: from the
    /// options, then from the file's first bytes (`first`, up to 8 of them).
    fn choose_format(&self, path: &Path, first: &[u8]) -> Result<Box<dyn Format>> {
        let max_header_size = self.max_header_size.unwrap_or(crate::npy::MAX_HEADER_SIZE);
        match (&self.raw, &self.member) {
            (Some(_), Some(_)) => Err(Error::Unsupported(format!(
                "{}: a raw layout and an archive member cannot both be given",
                path.display()
            ))),
            (Some(raw), None) => Ok(Box::new(raw.clone())),
            (None, member) if crate::npz::is_archive(first) => Ok(Box::new(crate::npz::Npz::new(
                member.clone(),
                max_header_size,
            ))),
            (None, Some(member)) => Err(Error::Archive {
                path: path.to_owned(),
                member: Some(member.clone()),
                reason: "not an .npz archive (it does not start with the zip magic PK\\x03\\x04), \
                         so it has no members"
                    .to_owned(),
            }),
            (None, None) => Ok(Box::new(Npy { max_header_size })),
        }
    }
}

/// How to create a new file.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    overwrite: bool,
    raw: Option<u64>,
}

impl CreateOptions {
    /// A new `.npy` file; an existing file is an error.
    #[must_use]
    pub fn new() -> CreateOptions {
        CreateOptions::default()
    }

    /// Replaces an existing file (by writing a new file and renaming it over the
    /// old one, so that anyone who has the old file mapped keeps its data).
    #[must_use]
    pub fn overwrite(mut self, yes: bool) -> CreateOptions {
        self.overwrite = yes;
        self
    }

    /// Writes a raw (headerless) file whose data starts at byte `offset` (zeros before it).
    #[must_use]
    pub fn raw(mut self, offset: u64) -> CreateOptions {
        self.raw = Some(offset);
        self
    }
}

/// An array mapped from a file, whose dtype is known at run time.
///
/// The access mode `M` is a type: [`ReadOnly`] (the default), [`ReadWrite`] or
/// [`CopyOnWrite`](crate::CopyOnWrite). Only writable modes have methods that write.
///
/// # Safety of mapping
///
/// Every constructor that maps a file is `unsafe`, as in `memmap2`: the caller
/// promises that **no other process or thread modifies or truncates the file while
/// the array is alive** (writing it through this array is fine). Everything else is
/// checked when the file is opened: header syntax and size cap, dtype, sizes with
/// checked arithmetic, that the file holds all the data, and that this process has
/// not already mapped the file in a conflicting mode (see `docs/safety.md`).
///
/// ```
/// use mmarray_core::{DynArray, ReadOnly, ReadWrite};
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.npy");
/// // SAFETY: the file is private to this example.
/// let mut a = unsafe { DynArray::<ReadWrite>::create(&path, "<f8".parse()?, &[2, 3], Default::default())? };
/// a.view_mut::<f64>()?.fill(1.5);
/// a.close()?;
/// // SAFETY: as above.
/// let a = unsafe { DynArray::<ReadOnly>::open(&path)? };
/// assert_eq!(a.shape(), [2, 3]);
/// assert_eq!(a.view::<f64>()?.get(&[1, 2])?, 1.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DynArray<M: Mode = ReadOnly> {
    path: PathBuf,
    // Fields drop in this order: the mapping, then the registration, then the file.
    // The registration must go before the file is closed: once an unlinked file (a
    // staged array dropped unpersisted) is closed, its inode number can be reused by a
    // new file, which would find the stale registration and be refused as busy.
    map: Map,
    _registration: Registration,
    file: File,
    layout: Layout,
    format: Box<dyn Format>,
    /// Set while the file is staged (unnamed, or under a temporary name): where
    /// [`persist`](DynArray::persist) puts it.
    staged: Option<Staged>,
    closed: bool,
    _mode: PhantomData<M>,
}

impl<M: Mode> fmt::Debug for DynArray<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynArray")
            .field("path", &self.path)
            .field("mode", &M::NAME)
            .field("format", &self.format.name())
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

fn data_len(path: &Path, layout: &Layout) -> Result<usize> {
    let too_large = || Error::TooLarge {
        path: path.to_owned(),
        shape: layout.shape.clone(),
        dtype: layout.dtype,
    };
    if layout.shape.len() > crate::geometry::MAX_DIMS {
        return Err(Error::Layout {
            path: path.to_owned(),
            reason: format!(
                "{} dimensions: at most {} are supported (numpy's limit)",
                layout.shape.len(),
                crate::geometry::MAX_DIMS
            ),
        });
    }
    if !crate::geometry::spans_fit(&layout.shape, layout.dtype.itemsize()) {
        return Err(too_large());
    }
    let n = layout.nbytes().ok_or_else(too_large)?;
    // Mappings and slices are limited to isize::MAX bytes.
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| isize::try_from(n).is_ok())
        .ok_or_else(too_large)?;
    layout
        .data_offset
        .checked_add(n as u64)
        .ok_or_else(|| Error::Layout {
            path: path.to_owned(),
            reason: format!(
                "offset {} plus {n} data bytes overflows",
                layout.data_offset
            ),
        })?;
    Ok(n)
}

impl<M: Mode> DynArray<M> {
    /// Opens an existing `.npy` file (recognised by its magic, whatever its name).
    ///
    /// # Safety
    ///
    /// See the [type-level docs](DynArray#safety-of-mapping): no one else may modify
    /// or truncate the file while the array lives.
    pub unsafe fn open(path: impl AsRef<Path>) -> Result<DynArray<M>> {
        // SAFETY: forwarded to the caller.
        unsafe { DynArray::open_with(path, &OpenOptions::new()) }
    }

    /// Opens an existing file as `.npy`, as a member of an `.npz` archive (see
    /// [`npz`](crate::npz)), or, with [`OpenOptions::raw`], as raw data.
    ///
    /// The file is never grown, shrunk or rewritten by opening it, in any mode. (A
    /// stored archive member opened read-write gets its CRC-32 rewritten in the
    /// archive after writes, when it is flushed.)
    ///
    /// # Safety
    ///
    /// See the [type-level docs](DynArray#safety-of-mapping).
    pub unsafe fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<DynArray<M>> {
        let path = path.as_ref();
        let mut fs_options = FsOpenOptions::new();
        fs_options.read(true).write(M::WRITES_FILE);
        // A FIFO (or a device) would block `open` until a writer appears; opening
        // without blocking lets the regular-file check below refuse it at once. The
        // flag changes nothing for regular files.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut fs_options, libc::O_NONBLOCK);
        let mut file = fs_options
            .open(path)
            .map_err(|e| Error::io(path, "open", e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, "stat", e))?;
        if !meta.is_file() {
            return Err(Error::Layout {
                path: path.to_owned(),
                reason: "not a regular file".to_owned(),
            });
        }
        let mut file_len = meta.len();
        let mut first = [0u8; 8];
        let got = (file_len as usize).min(first.len());
        sys::read_at(&file, &mut first[..got], 0).map_err(|e| Error::io(path, "read", e))?;
        let format = options.choose_format(path, &first[..got])?;
        let opened = format.open_data(&file, path, file_len, M::WRITES_FILE)?;
        let layout = opened.layout;
        if let Some(data_file) = opened.data_file {
            file = data_file;
            file_len = file
                .metadata()
                .map_err(|e| Error::io(path, "stat", e))?
                .len();
        }
        let n = data_len(path, &layout)?;
        let mut found = file_len.saturating_sub(layout.data_offset);
        if found < n as u64 {
            // The header may be newer than the length read before it: an append in
            // another process extends the file before it rewrites the header.
            let file_len = file
                .metadata()
                .map_err(|e| Error::io(path, "stat", e))?
                .len();
            found = file_len.saturating_sub(layout.data_offset);
        }
        if found < n as u64 {
            return Err(Error::Truncated {
                path: path.to_owned(),
                offset: layout.data_offset,
                expected: n as u64,
                found,
            });
        }
        let registration = Registration::new(&file, path, M::WRITES_FILE)?;
        // SAFETY: forwarded to the caller (nobody else modifies or truncates the file);
        // the range `data_offset..data_offset + n` lies inside the file (checked above).
        let map = unsafe { M::map(&file, layout.data_offset, n) }
            .map_err(|e| Error::io(path, "map", e))?;
        Ok(DynArray {
            path: path.to_owned(),
            file,
            map,
            layout,
            format,
            staged: None,
            closed: false,
            _registration: registration,
            _mode: PhantomData,
        })
    }

    /// The file's path (its final name for a staged array).
    #[must_use]
    pub fn path(&self) -> &Path {
        self.staged.as_ref().map_or(&self.path, |s| &s.dest)
    }

    /// The layout: dtype, shape, order, data offset, version.
    #[must_use]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> DType {
        self.layout.dtype
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.layout.shape
    }

    /// Number of dimensions.
    #[must_use]
    pub fn ndim(&self) -> usize {
        self.layout.shape.len()
    }

    /// The memory order.
    #[must_use]
    pub fn order(&self) -> Order {
        self.layout.order
    }

    /// Number of elements (numpy's `size`; 1 for a 0-d array).
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.bytes().len() / self.layout.dtype.itemsize()
    }

    /// Whether the array has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.bytes().is_empty()
    }

    /// Bytes of data.
    #[must_use]
    pub fn nbytes(&self) -> usize {
        self.map.bytes().len()
    }

    /// The `.npz` archive member the array was opened from (`None` for other files).
    #[must_use]
    pub fn npz_member(&self) -> Option<&crate::npz::MemberInfo> {
        self.format.member()
    }

    /// The format's name: `"npy"`, `"raw"` or `"npz"`.
    #[must_use]
    pub fn format_name(&self) -> &'static str {
        self.format.name()
    }

    /// The `.npy` version, e.g. `(1, 0)`; `None` for raw files.
    #[must_use]
    pub fn version(&self) -> Option<(u8, u8)> {
        self.layout.version
    }

    /// The mode's numpy name: `"r"`, `"r+"` or `"c"`.
    #[must_use]
    pub fn mode(&self) -> &'static str {
        M::NAME
    }

    /// The raw data bytes (in the file's byte order).
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        self.map.bytes()
    }

    fn geometry(&self) -> Geometry {
        Geometry::contiguous(
            &self.layout.shape,
            self.layout.dtype.itemsize(),
            self.layout.order,
        )
    }

    /// The file and the offset of its data, for views of a mapping that shows
    /// the file's pages.
    fn shared_file(&self) -> Option<(&File, u64)> {
        M::SHARED.then_some((&self.file, self.layout.data_offset))
    }

    /// A view of the whole array with element type `T`, whose kind must be the
    /// array's (the byte order may be either: views decode).
    pub fn view<T: Element>(&self) -> Result<View<'_, T>> {
        self.check_kind::<T>()?;
        Ok(View::<T>::from_parts(
            self.map.bytes(),
            self.shared_file(),
            self.geometry(),
            self.layout.dtype.byte_order(),
        ))
    }

    /// Checks that `T` is the Rust type of the array's kind (a view of another type
    /// would read the wrong bytes, or past the end of the data).
    fn check_kind<T: Element>(&self) -> Result<()> {
        if mmarray_dtype::is_kind::<T>(self.layout.dtype.kind()) {
            Ok(())
        } else {
            Err(Error::DTypeMismatch {
                path: self.path().to_owned(),
                expected: T::KIND.name().to_owned(),
                found: self.layout.dtype,
            })
        }
    }

    /// Tells the kernel how the data will be accessed (e.g. [`memmap2::Advice::Sequential`]
    /// before a streaming pass), for the mapping and, for sequential access, for
    /// reads of the file too (see [`View::read_region`]). Only a hint: errors are
    /// ignored.
    pub fn advise(&self, advice: memmap2::Advice) {
        if advice == memmap2::Advice::Sequential {
            crate::sys::advise_sequential(&self.file);
        }
        let _ = match &self.map {
            Map::Empty => Ok(()),
            Map::Ro(m) => m.advise(advice),
            Map::Mut(m) => m.advise(advice),
        };
    }

    /// Into a typed array, checking that `T` matches the dtype's kind.
    pub fn into_typed<T: Element>(self) -> Result<Array<T, M>> {
        self.check_kind::<T>()?;
        Ok(Array {
            inner: self,
            _t: PhantomData,
        })
    }

    /// Unmaps the array, reporting any error of the final flush (numpy has no
    /// `close`; dropping flushes too, but cannot report errors).
    pub fn close(mut self) -> Result<()> {
        self.closed = true;
        let result = self.flush_inner();
        self.map = Map::Empty;
        if let Some(staged) = &self.staged {
            // A staged array that was not persisted is discarded.
            staging::discard(&staged.ticket);
        }
        result
    }

    fn flush_inner(&self) -> Result<()> {
        if !M::WRITES_FILE {
            return Ok(());
        }
        if let Map::Mut(m) = &self.map {
            m.flush().map_err(|e| Error::io(self.path(), "flush", e))?;
        }
        self.format
            .flushed(&self.file, self.path(), &self.layout, self.map.bytes())
    }
}

impl<M: Writable> DynArray<M> {
    /// The raw data bytes, writable.
    #[must_use]
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.map.bytes_mut()
    }

    /// A writable view of the whole array with element type `T` (kind must match).
    pub fn view_mut<T: Element>(&mut self) -> Result<ViewMut<'_, T>> {
        self.check_kind::<T>()?;
        let geom = self.geometry();
        let order = self.layout.dtype.byte_order();
        Ok(ViewMut::<T>::from_parts(self.map.bytes_mut(), geom, order))
    }

    /// A [`DataWriter`](crate::DataWriter) that writes the data bytes straight to the
    /// file (`pwrite`), past the mapping; `None` for copy-on-write arrays, whose changes
    /// never reach the file, and for arrays without data bytes.
    ///
    /// It borrows the array mutably: the writes change the mapped bytes, so no view of
    /// the array may be alive while a writer is.
    ///
    /// ```compile_fail,E0502
    /// use mmarray_core::{DynArray, Order, ReadWrite};
    /// # let dir = tempfile::tempdir()?;
    /// // SAFETY: the file is private to this example.
    /// let mut a = unsafe { DynArray::<ReadWrite>::create(dir.path().join("w.npy"), "<u2".parse()?, &[4], Order::C)? };
    /// let v = a.view::<u16>()?;
    /// let w = a.data_writer().expect("writable"); // refused: the view `v` is alive
    /// w.write_at(0, &[1, 0])?;
    /// assert_eq!(v.to_vec(), [1, 0, 0, 0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn data_writer(&mut self) -> Option<crate::DataWriter<'_>> {
        match &self.map {
            Map::Mut(_) if M::WRITES_FILE && self.nbytes() > 0 => Some(crate::DataWriter::new(
                &self.file,
                &self.path,
                self.layout.data_offset,
                self.nbytes(),
            )),
            _ => None,
        }
    }

    /// Writes changes back to the file and waits for it (`msync`); errors are
    /// returned, not hidden. Does nothing for copy-on-write arrays.
    pub fn flush(&self) -> Result<()> {
        self.flush_inner()
    }

    /// Flushes `len` bytes of data from byte `offset` of the data.
    pub fn flush_range(&self, offset: usize, len: usize) -> Result<()> {
        let end = offset.checked_add(len).filter(|&e| e <= self.nbytes());
        if end.is_none() {
            return Err(Error::Index(crate::IndexError::Range {
                offset,
                len,
                nbytes: self.nbytes(),
            }));
        }
        match &self.map {
            Map::Mut(m) if M::WRITES_FILE && len > 0 => m
                .flush_range(offset, len)
                .map_err(|e| Error::io(self.path(), "flush", e)),
            _ => Ok(()),
        }
    }
}

impl DynArray<ReadWrite> {
    /// Creates a new zero-filled `.npy` file (numpy's `open_memmap(mode='w+')`),
    /// refusing to replace an existing file.
    ///
    /// The file's blocks are reserved up front, so a full disk is an error here
    /// rather than a crash (SIGBUS) during a later write.
    ///
    /// # Safety
    ///
    /// See the [type-level docs](DynArray#safety-of-mapping).
    pub unsafe fn create(
        path: impl AsRef<Path>,
        dtype: DType,
        shape: &[usize],
        order: Order,
    ) -> Result<DynArray<ReadWrite>> {
        // SAFETY: forwarded to the caller.
        unsafe { DynArray::create_with(path, dtype, shape, order, &CreateOptions::new()) }
    }

    /// Creates a new zero-filled file with options (overwrite, raw).
    ///
    /// # Safety
    ///
    /// See the [type-level docs](DynArray#safety-of-mapping).
    pub unsafe fn create_with(
        path: impl AsRef<Path>,
        dtype: DType,
        shape: &[usize],
        order: Order,
        options: &CreateOptions,
    ) -> Result<DynArray<ReadWrite>> {
        let path = path.as_ref();
        if options.overwrite {
            // Build under a temporary name, then rename over the old file.
            // SAFETY: forwarded to the caller.
            let staged = unsafe { DynArray::create_staged(path, dtype, shape, order, options) }?;
            staged.persist(true)
        } else {
            // SAFETY: forwarded to the caller.
            unsafe { create_at(path, dtype, shape, order, options) }
        }
    }

    /// Creates a new zero-filled file that appears at `path` only once complete:
    /// [`persist`](DynArray::persist) moves it there, and dropping it unpersisted
    /// deletes it. So `path` only ever appears with complete contents.
    ///
    /// On Linux the file is made unnamed in the folder of `path` (`O_TMPFILE`) where
    /// the filesystem allows it, so that nothing shows in the folder while it is
    /// written and a killed process leaves nothing at all; elsewhere (or after
    /// [`set_unnamed_temporaries(false)`](crate::set_unnamed_temporaries)) it lives
    /// under a hidden temporary name, `.NAME.PID.N.mmarray-tmp`, in that folder.
    /// Such temporaries that killed processes left behind (their process is gone)
    /// are removed here first. See also [`abandon_staged`](crate::abandon_staged).
    ///
    /// # Safety
    ///
    /// See the [type-level docs](DynArray#safety-of-mapping).
    pub unsafe fn create_staged(
        path: impl AsRef<Path>,
        dtype: DType,
        shape: &[usize],
        order: Order,
        options: &CreateOptions,
    ) -> Result<DynArray<ReadWrite>> {
        let path = path.as_ref();
        let plan = Plan::new(path, dtype, shape, order, options)?;
        let (file, tmp, ticket) = staging::open(path)?;
        let name = tmp.clone().unwrap_or_else(|| path.to_owned());
        let staged = Staged {
            dest: path.to_owned(),
            tmp,
            ticket,
        };
        // SAFETY: forwarded to the caller.
        unsafe { plan.finish(file, &name, Some(staged)) }
    }

    /// Flushes a staged array to disk and moves it to its final name; replaces an
    /// existing file there only if `overwrite`. For an array that is not staged,
    /// this just flushes.
    ///
    /// The move is atomic: `path` shows the old file (or nothing) until the new
    /// one, complete and synced, takes its place.
    pub fn persist(mut self, overwrite: bool) -> Result<DynArray<ReadWrite>> {
        self.flush()?;
        let Some(staged) = &self.staged else {
            return Ok(self);
        };
        let dest = staged.dest.clone();
        self.file
            .sync_all()
            .map_err(|e| Error::io(&dest, "sync", e))?;
        // Until the commit succeeds, dropping `self` discards the staged file.
        staging::commit(&staged.ticket, || {
            staging::move_into_place(&self.file, staged.tmp.as_deref(), &dest, overwrite)
        })
        .ok_or_else(|| Error::Interrupted { path: dest.clone() })??;
        self.staged = None;
        self.path.clone_from(&dest);
        if let Some(dir) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            sys::sync_dir(dir).map_err(|e| Error::io(dir, "sync folder", e))?;
        }
        Ok(self)
    }

    /// Grows the array by `n` zero-filled entries along its growth axis (rows for C
    /// order, the last axis for F order), as numpy's header padding allows.
    ///
    /// The file is extended and the new data flushed before the header is rewritten
    /// in place, so a crash at any point leaves a file that loads, with the old or
    /// the new length. Returns the range of the growth axis that was added.
    pub fn append_zeroed(&mut self, n: usize) -> Result<std::ops::Range<usize>> {
        self.grow(n, |_| Ok(()))
    }

    /// Grows the array along its growth axis by `n` entries, letting `write` fill
    /// the new data bytes (in the file's byte order and memory order) before they
    /// are flushed and the header announces them: a crash leaves the old length, or
    /// the new length with the written data.
    pub fn append_with(
        &mut self,
        n: usize,
        write: impl FnOnce(&mut [u8]) -> Result<()>,
    ) -> Result<std::ops::Range<usize>> {
        self.grow(n, write)
    }

    fn grow(
        &mut self,
        n: usize,
        write: impl FnOnce(&mut [u8]) -> Result<()>,
    ) -> Result<std::ops::Range<usize>> {
        let path = self.path().to_owned();
        self.format.check_grow(&path)?;
        let Some(axis) = self.layout.growth_axis() else {
            return Err(Error::Unsupported(format!(
                "{}: a 0-d array cannot grow",
                path.display()
            )));
        };
        let old_len = self.layout.shape[axis];
        let mut shape = self.layout.shape.clone();
        shape[axis] = old_len.checked_add(n).ok_or_else(|| Error::TooLarge {
            path: path.clone(),
            shape: self.layout.shape.clone(),
            dtype: self.layout.dtype,
        })?;
        let new_layout = Layout {
            shape,
            ..self.layout.clone()
        };
        let new_bytes = data_len(&path, &new_layout)?;
        let old_bytes = self.nbytes();
        let header_len = usize::try_from(self.layout.data_offset).unwrap_or(usize::MAX);
        let mut old_header = vec![0u8; header_len.min(1 << 24)];
        if old_header.len() != header_len {
            return Err(Error::Unsupported(format!(
                "{}: header too large to rewrite",
                path.display()
            )));
        }
        sys::read_at(&self.file, &mut old_header, 0)
            .map_err(|e| Error::io(&path, "read header", e))?;
        let new_header = self
            .format
            .grown_header(&self.layout, &old_header, &new_layout.shape)?;
        if new_header.len() != old_header.len() {
            return Err(Error::Unsupported(format!(
                "{}: the new header does not fit in place",
                path.display()
            )));
        }
        self.flush()?;
        let end = self.layout.data_offset + new_bytes as u64;
        let file_len = self
            .file
            .metadata()
            .map_err(|e| Error::io(&path, "stat", e))?
            .len();
        // Reserve only the new range: the old one may be sparse on purpose.
        let old_end = self.layout.data_offset + old_bytes as u64;
        sys::reserve(&self.file, old_end, end)
            .map_err(|e| Error::io(&path, "extend (disk full?)", e))?;
        self.map = Map::Empty;
        // SAFETY: the caller of the constructor promised that nobody else modifies or
        // truncates the file; we just extended it to cover the new range.
        self.map = unsafe { ReadWrite::map(&self.file, self.layout.data_offset, new_bytes) }
            .map_err(|e| Error::io(&path, "map", e))?;
        let added = &mut self.map.bytes_mut()[old_bytes..];
        if file_len > self.layout.data_offset + old_bytes as u64 {
            // Bytes that followed the old data (numpy ignores them) become zeros.
            added.fill(0);
        }
        write(added)?;
        match &self.map {
            Map::Mut(m) if new_bytes > old_bytes => {
                m.flush_range(old_bytes, new_bytes - old_bytes)
                    .map_err(|e| Error::io(&path, "flush", e))?;
            }
            _ => {}
        }
        self.file
            .sync_data()
            .map_err(|e| Error::io(&path, "sync", e))?;
        sys::write_at(&self.file, &new_header, 0)
            .map_err(|e| Error::io(&path, "rewrite header", e))?;
        self.file
            .sync_data()
            .map_err(|e| Error::io(&path, "sync", e))?;
        self.layout = new_layout;
        Ok(old_len..old_len + n)
    }
}

/// A staged array's file: unnamed (`tmp` is `None`) or under a temporary name,
/// on the process-wide list of [`staging`] until persisted or discarded.
#[derive(Debug)]
struct Staged {
    /// Where [`DynArray::persist`] puts it.
    dest: PathBuf,
    /// Its temporary name, if it has one.
    tmp: Option<PathBuf>,
    ticket: staging::Ticket,
}

/// A new file's format, header and layout, checked before any file is made.
struct Plan {
    format: Box<dyn Format>,
    header: Vec<u8>,
    layout: Layout,
    /// Bytes of data.
    n: usize,
    /// The name errors show: the file the caller asked for.
    shown: PathBuf,
}

impl Plan {
    fn new(
        shown: &Path,
        dtype: DType,
        shape: &[usize],
        order: Order,
        options: &CreateOptions,
    ) -> Result<Plan> {
        let format: Box<dyn Format> = match options.raw {
            Some(offset) => Box::new(
                Raw::new(dtype)
                    .shape(shape.to_vec())
                    .offset(offset)
                    .order(order),
            ),
            None => Box::new(Npy::default()),
        };
        let (header, layout) = format.new_file(dtype, shape, order)?;
        let n = data_len(shown, &layout)?;
        Ok(Plan {
            format,
            header,
            layout,
            n,
            shown: shown.to_owned(),
        })
    }

    /// Writes the header into the new, empty `file` (named `path`, or unnamed and
    /// staged), reserves its blocks and maps it. A failure removes what was made.
    unsafe fn finish(
        self,
        file: File,
        path: &Path,
        staged: Option<Staged>,
    ) -> Result<DynArray<ReadWrite>> {
        let shown = self.shown.as_path();
        let total = self.layout.data_offset + self.n as u64;
        // From here on, a failure removes the half-made file.
        let fail = |e: Error| {
            match &staged {
                Some(staged) => staging::discard(&staged.ticket),
                None => {
                    let _ = std::fs::remove_file(path);
                }
            }
            e
        };
        sys::write_at(&file, &self.header, 0)
            .map_err(|e| fail(Error::io(shown, "write header", e)))?;
        sys::reserve(&file, 0, total)
            .map_err(|e| fail(Error::io(shown, "reserve space (disk full?)", e)))?;
        let registration = Registration::new(&file, shown, true).map_err(fail)?;
        // SAFETY: forwarded to the caller; the file was just created at full size.
        let map = unsafe { ReadWrite::map(&file, self.layout.data_offset, self.n) }
            .map_err(|e| fail(Error::io(shown, "map", e)))?;
        Ok(DynArray {
            path: path.to_owned(),
            file,
            map,
            layout: self.layout,
            format: self.format,
            staged,
            closed: false,
            _registration: registration,
            _mode: PhantomData,
        })
    }
}

/// Creates, sizes and maps a new file at exactly `path` (which must not exist).
unsafe fn create_at(
    path: &Path,
    dtype: DType,
    shape: &[usize],
    order: Order,
    options: &CreateOptions,
) -> Result<DynArray<ReadWrite>> {
    let plan = Plan::new(path, dtype, shape, order, options)?;
    let file = FsOpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Exists {
                    path: path.to_owned(),
                }
            } else {
                Error::io(path, "create", e)
            }
        })?;
    // SAFETY: forwarded to the caller.
    unsafe { plan.finish(file, path, None) }
}

impl<M: Mode> Drop for DynArray<M> {
    fn drop(&mut self) {
        if !self.closed {
            // Best effort: errors can only be reported by `close`.
            let _ = self.flush_inner();
            if let Some(staged) = &self.staged {
                self.map = Map::Empty;
                staging::discard(&staged.ticket);
            }
        }
    }
}

/// An array mapped from a file whose element type `T` is known at compile time.
///
/// It is a [`DynArray`] (all its metadata methods are available through `Deref`)
/// whose dtype has been checked to be `T`'s kind, in either byte order.
///
/// ```
/// use mmarray_core::{Array, ReadWrite, Order};
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("rows.npy");
/// // SAFETY: the file is private to this example.
/// let mut a = unsafe { Array::<f32, ReadWrite>::create(&path, &[0, 3], Order::C)? };
/// a.append(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// assert_eq!(a.shape(), [2, 3]);
/// assert_eq!(a.view().slice("1, ::-1")?.to_vec(), [6.0, 5.0, 4.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Array<T: Element, M: Mode = ReadOnly> {
    inner: DynArray<M>,
    _t: PhantomData<T>,
}

impl<T: Element, M: Mode> fmt::Debug for Array<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array").field("inner", &self.inner).finish()
    }
}

impl<T: mmarray_dtype::Native, M: Mode> fmt::Display for Array<T, M> {
    /// numpy's `repr()` of a `memmap` ([`print::repr`](crate::print::repr) with
    /// class `memmap`), summarised with `...` when large, as numpy prints it.
    ///
    /// ```
    /// use mmarray_core::{Array, Order, ReadWrite};
    /// # let dir = tempfile::tempdir()?;
    /// // SAFETY: the file is private to this example.
    /// let mut a = unsafe { Array::<f32, ReadWrite>::create(dir.path().join("d.npy"), &[2, 3], Order::C)? };
    /// a.view_mut().assign_slice(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0])?;
    /// assert_eq!(a.to_string(), "memmap([[0., 1., 2.],\n        [3., 4., 5.]], dtype=float32)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::print::repr(&self.view(), "memmap"))
    }
}

impl<M: Mode> fmt::Display for DynArray<M> {
    /// numpy's `repr()` of a `memmap`, as [`Array`]'s.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        mmarray_dtype::dispatch!(self.dtype().kind(), T => match self.view::<T>() {
            Ok(v) => f.write_str(&crate::print::repr(&v, "memmap")),
            // A view of the array's own kind always exists.
            Err(_) => Err(fmt::Error),
        })
    }
}

impl<T: Element, M: Mode> Deref for Array<T, M> {
    type Target = DynArray<M>;
    fn deref(&self) -> &DynArray<M> {
        &self.inner
    }
}

impl<T: Element, M: Mode> Array<T, M> {
    /// Opens an existing `.npy` file whose dtype must be `T`'s kind (either byte order).
    ///
    /// # Safety
    ///
    /// See [`DynArray`'s safety docs](DynArray#safety-of-mapping).
    pub unsafe fn open(path: impl AsRef<Path>) -> Result<Array<T, M>> {
        // SAFETY: forwarded to the caller.
        unsafe { DynArray::open(path) }?.into_typed()
    }

    /// Opens an existing file with options (raw layout, header cap).
    ///
    /// # Safety
    ///
    /// See [`DynArray`'s safety docs](DynArray#safety-of-mapping).
    pub unsafe fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Array<T, M>> {
        // SAFETY: forwarded to the caller.
        unsafe { DynArray::open_with(path, options) }?.into_typed()
    }

    /// A view of the whole array.
    #[must_use]
    pub fn view(&self) -> View<'_, T> {
        View::from_parts(
            self.inner.map.bytes(),
            self.inner.shared_file(),
            self.inner.geometry(),
            self.inner.dtype().byte_order(),
        )
    }

    /// A view of the elements selected by numpy basic indexing (text, an
    /// [`s!`](crate::s) spec, a range or an integer): `a.slice(s![..5, 2])` is
    /// `a.view().slice(s![..5, 2])`.
    pub fn slice<S>(&self, spec: S) -> Result<View<'_, T>>
    where
        S: TryInto<crate::Spec>,
        S::Error: Into<Error>,
    {
        self.view().slice(spec)
    }

    /// The elements as a slice when native-endian and aligned (`None` otherwise).
    #[must_use]
    pub fn as_slice(&self) -> Option<&[T]> {
        if !self.inner.dtype().is_native() {
            return None;
        }
        bytemuck::try_cast_slice(self.inner.map.bytes()).ok()
    }

    /// Back to a [`DynArray`].
    #[must_use]
    pub fn into_dyn(self) -> DynArray<M> {
        self.inner
    }

    /// Unmaps the array, reporting errors of the final flush.
    pub fn close(self) -> Result<()> {
        self.inner.close()
    }
}

impl<T: Element, M: Writable> Array<T, M> {
    /// A writable view of the whole array.
    pub fn view_mut(&mut self) -> ViewMut<'_, T> {
        let geom = self.inner.geometry();
        let order = self.inner.dtype().byte_order();
        ViewMut::from_parts(self.inner.map.bytes_mut(), geom, order)
    }

    /// A writable view of the elements selected by numpy basic indexing:
    /// `a.slice_mut(s![..5])` is `a.view_mut().slice_mut(s![..5])`.
    ///
    /// ```
    /// use mmarray_core::{Array, Order, ReadWrite, s};
    /// # let dir = tempfile::tempdir()?;
    /// // SAFETY: the file is private to this example.
    /// let mut a = unsafe { Array::<i32, ReadWrite>::create(dir.path().join("s.npy"), &[3, 3], Order::C)? };
    /// a.slice_mut(s![.., 1])?.fill(7);
    /// assert_eq!(a.slice(s![2])?.to_vec(), [0, 7, 0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn slice_mut<S>(&mut self, spec: S) -> Result<ViewMut<'_, T>>
    where
        S: TryInto<crate::Spec>,
        S::Error: Into<Error>,
    {
        self.view_mut().slice_mut(spec)
    }

    /// The elements as a mutable slice when native-endian and aligned.
    pub fn as_slice_mut(&mut self) -> Option<&mut [T]> {
        if !self.inner.dtype().is_native() {
            return None;
        }
        bytemuck::try_cast_slice_mut(self.inner.map.bytes_mut()).ok()
    }

    /// Flushes changes to the file (`msync`), returning errors.
    pub fn flush(&self) -> Result<()> {
        self.inner.flush()
    }
}

impl<T: Element> Array<T, ReadWrite> {
    /// Creates a new zero-filled native-endian `.npy` file, refusing to replace one.
    ///
    /// # Safety
    ///
    /// See [`DynArray`'s safety docs](DynArray#safety-of-mapping).
    pub unsafe fn create(
        path: impl AsRef<Path>,
        shape: &[usize],
        order: Order,
    ) -> Result<Array<T, ReadWrite>> {
        // SAFETY: forwarded to the caller.
        unsafe { DynArray::create(path, DType::native(T::KIND), shape, order) }?.into_typed()
    }

    /// Creates a new zero-filled native-endian file with options: numpy's `w+`
    /// (replacing an existing file) with [`CreateOptions::overwrite`], a raw
    /// headerless file with [`CreateOptions::raw`].
    ///
    /// The modes of numpy's `memmap`, typed:
    ///
    /// | numpy | mmarray |
    /// |---|---|
    /// | `mode='r'` | `Array::<T, ReadOnly>::open(path)` |
    /// | `mode='r+'` | `Array::<T, ReadWrite>::open(path)` |
    /// | `mode='c'` | `Array::<T, CopyOnWrite>::open(path)` |
    /// | `mode='w+'` | `Array::<T, ReadWrite>::create_with(path, shape, order, &CreateOptions::new().overwrite(true))` |
    ///
    /// (For a big-endian or other non-native file, create a [`DynArray`] with its
    /// dtype and call [`into_typed`](DynArray::into_typed).)
    ///
    /// ```
    /// use mmarray_core::{Array, CreateOptions, Order, ReadWrite};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("w.npy");
    /// let w_plus = CreateOptions::new().overwrite(true);
    /// // SAFETY: the file is private to this example.
    /// let a = unsafe { Array::<f32, ReadWrite>::create_with(&path, &[2, 2], Order::C, &w_plus)? };
    /// a.close()?;
    /// // SAFETY: as above. The old file is replaced, as numpy's `w+` does.
    /// let a = unsafe { Array::<i16, ReadWrite>::create_with(&path, &[3], Order::C, &w_plus)? };
    /// assert_eq!((a.shape(), a.dtype().itemsize()), (&[3][..], 2));
    /// a.close()?;
    /// // SAFETY: as above. Without `overwrite`, an existing file is an error.
    /// let again = unsafe { Array::<i16, ReadWrite>::create_with(&path, &[3], Order::C, &CreateOptions::new()) };
    /// assert!(matches!(again, Err(mmarray_core::Error::Exists { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Safety
    ///
    /// See [`DynArray`'s safety docs](DynArray#safety-of-mapping).
    pub unsafe fn create_with(
        path: impl AsRef<Path>,
        shape: &[usize],
        order: Order,
        options: &CreateOptions,
    ) -> Result<Array<T, ReadWrite>> {
        // SAFETY: forwarded to the caller.
        unsafe { DynArray::create_with(path, DType::native(T::KIND), shape, order, options) }?
            .into_typed()
    }

    /// Appends whole entries of the growth axis (rows for C order), given in the
    /// file's memory order; `values.len()` must be a multiple of the entry size.
    pub fn append(&mut self, values: &[T]) -> Result<std::ops::Range<usize>> {
        let layout = self.inner.layout();
        let axis = layout.growth_axis().unwrap_or(0);
        let entry: usize = layout
            .shape
            .iter()
            .enumerate()
            .filter(|&(a, _)| a != axis)
            .map(|(_, &d)| d)
            .product();
        if layout.shape.is_empty() || entry == 0 || !values.len().is_multiple_of(entry) {
            return Err(ShapeError::Entries {
                shape: layout.shape.clone(),
                entry,
                found: values.len(),
            }
            .into());
        }
        let order = layout.dtype.byte_order();
        self.inner.grow(values.len() / entry, |bytes| {
            Ok(mmarray_dtype::encode(values, order, bytes)?)
        })
    }

    /// Grows by `n` zero-filled entries; see [`DynArray::append_zeroed`].
    pub fn append_zeroed(&mut self, n: usize) -> Result<std::ops::Range<usize>> {
        self.inner.append_zeroed(n)
    }
}

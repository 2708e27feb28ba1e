//! The walkthrough of `numpy.memmap`'s docstring, in Rust, and then the same with a `.npy`
//! file: create a 3x4 float32 file, write `arange(12)` into it, flush, reopen it read-only,
//! copy-on-write and at a byte offset, then grow it.
//!
//! Run it with `cargo run -p mmarray-core --example memmap_docstring`. Each step prints the numpy
//! line it mirrors, then what mmarray shows, in numpy's `repr`.

use std::error::Error;

use mmarray_core::print::repr;
use mmarray_core::{
    Array, CopyOnWrite, CreateOptions, DynArray, OpenOptions, Order, Raw, ReadOnly, ReadWrite,
};
use mmarray_dtype::{DType, Kind};

fn step(python: &str) {
    println!("\n>>> {python}");
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let filename = dir.path().join("newfile.dat");
    let f32_dtype = DType::native(Kind::F32);

    step("data = np.arange(12, dtype='float32'); data.resize((3,4))");
    let data: Vec<f32> = (0..12u8).map(f32::from).collect();
    println!("{data:?}");

    // Mapping a file is `unsafe` in mmarray, as in memmap2: the caller promises that no other
    // program changes or truncates the file while it is mapped. This folder is our own.
    step("fp = np.memmap(filename, dtype='float32', mode='w+', shape=(3,4))");
    let raw = CreateOptions::new().raw(0);
    // SAFETY: the file is private to this example.
    let mut fp = unsafe { DynArray::create_with(&filename, f32_dtype, &[3, 4], Order::C, &raw) }?
        .into_typed::<f32>()?;
    println!("{}", repr(&fp.view(), "memmap"));

    step("fp[:] = data[:]");
    fp.view_mut().assign_slice(&data)?;
    println!("{}", repr(&fp.view(), "memmap"));

    step("fp.filename == path.abspath(filename)");
    println!(
        "{}",
        if fp.path() == filename {
            "True"
        } else {
            "False"
        }
    );

    step("fp.flush(); del fp");
    fp.flush()?;
    // numpy has no close; mmarray's reports the errors of the last flush.
    fp.close()?;
    println!(
        "(closed; the data is on disk: {} bytes)",
        std::fs::metadata(&filename)?.len()
    );

    step("newfp = np.memmap(filename, dtype='float32', mode='r', shape=(3,4))");
    let layout = Raw::new(f32_dtype).shape(vec![3, 4]);
    let options = OpenOptions::new().raw(layout.clone());
    // SAFETY: as above.
    let newfp = unsafe { Array::<f32, ReadOnly>::open_with(&filename, &options) }?;
    println!("{}", repr(&newfp.view(), "memmap"));

    step("fpr = np.memmap(filename, dtype='float32', mode='r', shape=(3,4)); fpr.flags.writeable");
    // SAFETY: as above.
    let fpr = unsafe { Array::<f32, ReadOnly>::open_with(&filename, &options) }?;
    println!("False  (a ReadOnly array has no view_mut: writing to it does not compile)");

    step("fpc = np.memmap(filename, dtype='float32', mode='c', shape=(3,4)); fpc.flags.writeable");
    // SAFETY: as above.
    let mut fpc = unsafe { Array::<f32, CopyOnWrite>::open_with(&filename, &options) }?;
    println!("True");

    step("fpc[0,:] = 0; fpc");
    fpc.view_mut().slice_mut("0, :")?.fill(0.0);
    println!("{}", repr(&fpc.view(), "memmap"));

    step("fpr  # the file is unchanged");
    println!("{}", repr(&fpr.view(), "memmap"));
    drop((newfp, fpr, fpc));

    step("fpo = np.memmap(filename, dtype='float32', mode='r', offset=16); fpo");
    let options = OpenOptions::new().raw(Raw::new(f32_dtype).offset(16));
    // SAFETY: as above.
    let fpo = unsafe { Array::<f32, ReadOnly>::open_with(&filename, &options) }?;
    println!("{}", repr(&fpo.view(), "memmap"));
    drop(fpo);

    // The same with a .npy file, as np.lib.format.open_memmap and np.load(mmap_mode=...) do.
    let npy = dir.path().join("newfile.npy");
    step("fp = np.lib.format.open_memmap('newfile.npy', mode='w+', dtype='float32', shape=(3,4))");
    // SAFETY: as above.
    let mut fp = unsafe { Array::<f32, ReadWrite>::create(&npy, &[3, 4], Order::C) }?;
    fp.view_mut().assign_slice(&data)?;
    println!("{}", repr(&fp.view(), "memmap"));

    step("# numpy cannot grow a memmap; mmarray appends rows in place");
    fp.append(&[12.0, 13.0, 14.0, 15.0])?;
    println!("{}", repr(&fp.view(), "memmap"));
    fp.close()?;
    let header = std::fs::read(&npy)?;
    let text_end = header.iter().position(|&b| b == b'\n').unwrap_or(0);
    println!(
        "header: {:?}",
        String::from_utf8_lossy(&header[10..text_end]).trim_end()
    );

    step("a = np.load('newfile.npy', mmap_mode='r'); a[::-1, 1:3]");
    // SAFETY: as above.
    let a = unsafe { DynArray::<ReadOnly>::open(&npy) }?;
    println!(
        "dtype {}, shape {:?}, order {}, version {:?}",
        a.dtype(),
        a.shape(),
        a.order().as_str(),
        a.version()
    );
    println!("{}", repr(&a.view::<f32>()?.slice("::-1, 1:3")?, "memmap"));

    step("b = np.load('newfile.npy', mmap_mode='r+')  # while `a` is open");
    // SAFETY: as above.
    match unsafe { DynArray::<ReadWrite>::open(&npy) } {
        Ok(_) => println!("opened (unexpected)"),
        Err(e) => println!("error: {e}"),
    }
    drop(a);
    println!("(after dropping `a`, it opens)");
    // SAFETY: as above.
    let b = unsafe { DynArray::<ReadWrite>::open(&npy) }?;
    b.close()?;

    step("np.load('newfile.npy', mmap_mode='r+') of a truncated file  # numpy grows it");
    let short = dir.path().join("short.npy");
    std::fs::write(&short, &header[..header.len() - 1])?;
    // SAFETY: as above.
    match unsafe { DynArray::<ReadWrite>::open(&short) } {
        Ok(_) => println!("opened (unexpected)"),
        Err(e) => println!("error: {e}"),
    }
    println!(
        "(the file is still {} bytes)",
        std::fs::metadata(&short)?.len()
    );
    Ok(())
}

//! Reading and writing NumPy `.npy` files (format version 1.0), so that matrices move between
//! synaptogen and Python without conversion scripts.
//!
//! Written files are C-ordered (row-major) little-endian arrays of one or two dimensions.
//! Reading accepts the element types a boolean, integer or float matrix is usually saved with
//! (`|b1`, `|u1`, `<i4`, `<i8`, `<f4`, `<f8`), in C or Fortran order, and returns `f64` values.

use std::io;
use std::path::Path;

use nalgebra::DMatrix;

use crate::files;

const MAGIC: &[u8] = b"\x93NUMPY";

/// An element type that can be written to a `.npy` file.
pub trait Element: Copy {
    /// NumPy's type string, for example `<f8`.
    const DESCR: &'static str;
    /// Appends the little-endian bytes of `self` to `out`.
    fn put(self, out: &mut Vec<u8>);
}

impl Element for f64 {
    const DESCR: &'static str = "<f8";
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Element for u64 {
    const DESCR: &'static str = "<u8";
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Element for u32 {
    const DESCR: &'static str = "<u4";
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

/// The bytes of a `.npy` file holding `values` (row-major) with the given shape.
pub fn encode<T: Element>(shape: &[usize], values: impl IntoIterator<Item = T>) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header =
        format!("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", T::DESCR, shape_text);
    // Magic (6) + version (2) + header length (2) + header + newline, padded to 64 bytes.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');

    let mut out =
        Vec::with_capacity(MAGIC.len() + 4 + header.len() + shape.iter().product::<usize>() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        v.put(&mut out);
    }
    out
}

/// Writes a matrix as a `rows x cols` `.npy` array of `f64`, atomically.
pub fn write_matrix(path: &Path, matrix: &DMatrix<f64>) -> io::Result<()> {
    let values = (0..matrix.nrows()).flat_map(|i| (0..matrix.ncols()).map(move |j| matrix[(i, j)]));
    files::write_atomic(path, &encode(&[matrix.nrows(), matrix.ncols()], values))
}

/// Writes a matrix of counts as a `rows x cols` `.npy` array of `u32`, atomically.
pub fn write_counts(path: &Path, rows: usize, cols: usize, counts: &[u32]) -> io::Result<()> {
    files::write_atomic(path, &encode(&[rows, cols], counts.iter().copied()))
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Reads a one- or two-dimensional `.npy` array as a matrix (a vector becomes one row).
pub fn read_matrix(path: &Path) -> io::Result<DMatrix<f64>> {
    decode(&std::fs::read(path)?)
}

/// Parses the bytes of a `.npy` file (see [`read_matrix`]).
pub fn decode(bytes: &[u8]) -> io::Result<DMatrix<f64>> {
    // Preamble: magic, version, header length.
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(invalid("not a .npy file (bad magic string)"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(invalid(format!("unsupported .npy version {v}"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| invalid("truncated or non-text .npy header"))?;

    // Header dictionary: descr, fortran_order, shape.
    let field = |key: &str| -> io::Result<&str> {
        let at = header
            .find(&format!("'{key}'"))
            .ok_or_else(|| invalid(format!("header has no '{key}'")))?;
        Ok(header[at + key.len() + 2..].trim_start().trim_start_matches(':').trim_start())
    };
    let descr = field("descr")?.trim_start_matches('\'');
    let descr = &descr[..descr.find('\'').ok_or_else(|| invalid("bad descr"))?];
    let fortran = field("fortran_order")?.starts_with("True");
    let shape_text = field("shape")?;
    let shape_text = &shape_text[1..shape_text.find(')').ok_or_else(|| invalid("bad shape"))?];
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| invalid(format!("bad dimension `{s}`"))))
        .collect::<io::Result<_>>()?;
    let (rows, cols) = match shape[..] {
        [n] => (1, n),
        [r, c] => (r, c),
        _ => return Err(invalid(format!("expected a 1- or 2-dimensional array, found {shape:?}"))),
    };

    // Data.
    let width = match descr {
        "|b1" | "|u1" | "|i1" => 1,
        "<i4" | "<u4" | "<f4" => 4,
        "<i8" | "<u8" | "<f8" => 8,
        other => return Err(invalid(format!("unsupported element type `{other}`"))),
    };
    let data = &bytes[start + header_len..];
    if data.len() < rows * cols * width {
        return Err(invalid("array data is truncated"));
    }
    let element = |i: usize| -> f64 {
        let b = &data[i * width..(i + 1) * width];
        match descr {
            "|b1" | "|u1" => b[0] as f64,
            "|i1" => b[0] as i8 as f64,
            "<i4" => i32::from_le_bytes(b.try_into().unwrap()) as f64,
            "<u4" => u32::from_le_bytes(b.try_into().unwrap()) as f64,
            "<f4" => f32::from_le_bytes(b.try_into().unwrap()) as f64,
            "<i8" => i64::from_le_bytes(b.try_into().unwrap()) as f64,
            "<u8" => u64::from_le_bytes(b.try_into().unwrap()) as f64,
            _ => f64::from_le_bytes(b.try_into().unwrap()),
        }
    };
    Ok(if fortran {
        DMatrix::from_fn(rows, cols, |i, j| element(i + j * rows))
    } else {
        DMatrix::from_fn(rows, cols, |i, j| element(i * cols + j))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_matrix() {
        let m = DMatrix::from_fn(3, 5, |i, j| i as f64 * 10.0 + j as f64 + 0.125);
        let values = (0..3).flat_map(|i| (0..5).map(move |j| (i, j))).map(|(i, j)| m[(i, j)]);
        let bytes = encode(&[3, 5], values);
        assert_eq!((bytes.len() - 15 * 8) % 64, 0, "header is padded to 64 bytes");
        assert_eq!(decode(&bytes).unwrap(), m);
    }

    #[test]
    fn reads_booleans_and_fortran_order() {
        let mut header = "{'descr': '|b1', 'fortran_order': True, 'shape': (2, 3), }".to_string();
        header.push_str(&" ".repeat(64 - (10 + header.len() + 1) % 64));
        header.push('\n');
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[1, 0, 0, 1, 1, 0]);
        let m = decode(&bytes).unwrap();
        assert_eq!(m, DMatrix::from_row_slice(2, 3, &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0]));
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode(b"hello world").is_err());
        let bytes = encode(&[4, 4], [1.0f64; 3]);
        assert!(decode(&bytes).is_err(), "truncated data is an error");
    }
}

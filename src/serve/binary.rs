//! Triton's binary tensor extension, which its client uses by default: the body is the JSON
//! request (its length in the `Inference-Header-Content-Length` header) followed by the raw bytes of
//! every input whose parameters give `binary_data_size`, in input order. Fixed-size elements are
//! little-endian; a BYTES element is a 4-byte little-endian length and then its bytes. Outputs asked
//! for with `binary_data` (or the request's `binary_data_output`) come back the same way.
//!
//! Every length a client states is checked against the bytes that arrived, and the message says
//! which input lied and by how much.

use super::tensors::Values;
use super::wire::Datatype;
use crate::core::error::{Error, Result};
#[cfg(test)]
use crate::core::serving::protocol::encode_text;

/// The header giving the JSON part's length.
pub const HEADER: &str = "inference-header-content-length";

/// Split a body into its JSON part and binary tail at `json_len` (the header's value).
pub fn split<'a>(body: &'a [u8], json_len: &str) -> Result<(&'a [u8], &'a [u8])> {
    let n: usize = json_len.trim().parse().map_err(|_| {
        Error::Invalid(format!("the {HEADER} header must be a byte count, not {}", crate::core::text::quote(json_len)))
    })?;
    if n > body.len() {
        return Err(Error::Invalid(format!(
            "the {HEADER} header says the JSON part has {n} bytes, but the body has only {}",
            body.len()
        )));
    }
    Ok(body.split_at(n))
}

/// Takes each binary input's bytes from the tail in turn.
pub struct Tail<'a> {
    rest: &'a [u8],
}

impl<'a> Tail<'a> {
    /// The binary bytes after the JSON part.
    pub fn new(rest: &'a [u8]) -> Self {
        Self { rest }
    }

    /// The next `size` bytes, for `input`.
    pub fn take(&mut self, input: &str, size: usize) -> Result<&'a [u8]> {
        if size > self.rest.len() {
            return Err(Error::Invalid(format!(
                "input '{input}' says binary_data_size {size}, but only {} binary bytes are left in the body",
                self.rest.len()
            )));
        }
        let (part, rest) = self.rest.split_at(size);
        self.rest = rest;
        Ok(part)
    }

    /// Refuse bytes no input claimed.
    pub fn finish(self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "the body has {} binary bytes that no input's binary_data_size accounts for",
                self.rest.len()
            )))
        }
    }
}

/// Decode `count` elements of `datatype` from `bytes`.
pub fn decode(input: &str, datatype: Datatype, count: usize, bytes: &[u8]) -> Result<Values> {
    let Some(size) = datatype.size() else {
        return decode_text(input, count, bytes);
    };
    {
        let expected = count.saturating_mul(size);
        if bytes.len() != expected {
            return Err(Error::Invalid(format!(
                "input '{input}' has {} binary bytes, but {count} {} values take {expected}",
                bytes.len(),
                datatype.as_str()
            )));
        }
        let chunks = bytes.chunks_exact(size);
        let le8 = |c: &[u8]| {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            u64::from_le_bytes(b)
        };
        Ok(match datatype {
            Datatype::Bool => Values::Bool(chunks.map(|c| Some(c[0] != 0)).collect()),
            Datatype::Int(n) => {
                let shift = 64 - 8 * u32::from(n);
                Values::Int(chunks.map(|c| Some(((le8(c) << shift) as i64) >> shift)).collect())
            }
            Datatype::UInt(_) => {
                let mut out = Vec::with_capacity(count);
                for (i, c) in chunks.enumerate() {
                    let v = i64::try_from(le8(c)).map_err(|_| {
                        Error::Invalid(format!(
                            "input '{input}' has {} at element {}, too large for a model input",
                            le8(c),
                            i + 1
                        ))
                    })?;
                    out.push(Some(v));
                }
                Values::Int(out)
            }
            Datatype::F16 => {
                Values::Float(chunks.map(|c| Some(f16_to_f64(u16::from_le_bytes([c[0], c[1]])))).collect())
            }
            Datatype::F32 => {
                Values::Float(chunks.map(|c| Some(f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))).collect())
            }
            Datatype::F64 => Values::Float(chunks.map(|c| Some(f64::from_bits(le8(c)))).collect()),
            Datatype::Bytes => return decode_text(input, count, bytes),
        })
    }
}

/// BYTES elements: a 4-byte little-endian length, then the bytes (UTF-8 text for a tabular model).
fn decode_text(input: &str, count: usize, bytes: &[u8]) -> Result<Values> {
    let mut out = Vec::with_capacity(count.min(1 << 20));
    let mut rest = bytes;
    while !rest.is_empty() {
        let element = out.len() + 1;
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return Err(Error::Invalid(format!(
                "input '{input}': BYTES element {element} is cut short (its 4-byte length is incomplete)"
            )));
        };
        let len = u32::from_le_bytes(*len) as usize;
        if len > tail.len() {
            return Err(Error::Invalid(format!(
                "input '{input}': BYTES element {element} says it has {len} bytes, but only {} are left",
                tail.len()
            )));
        }
        let (text, tail) = tail.split_at(len);
        let text = std::str::from_utf8(text)
            .map_err(|_| Error::Invalid(format!("input '{input}': BYTES element {element} is not UTF-8 text")))?;
        out.push(Some(text.to_string()));
        rest = tail;
    }
    if out.len() != count {
        return Err(Error::Invalid(format!(
            "input '{input}' has {} BYTES elements in its binary data, but its shape holds {count}",
            out.len()
        )));
    }
    Ok(Values::Text(out))
}

/// An IEEE half-precision value, widened exactly.
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_size_values_decode_little_endian() {
        let bytes: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(decode("x", Datatype::F32, 2, &bytes).unwrap(), Values::Float(vec![Some(1.5), Some(-2.0)]));
        let bytes: Vec<u8> = [-3i32, 7].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(decode("x", Datatype::Int(4), 2, &bytes).unwrap(), Values::Int(vec![Some(-3), Some(7)]));
        assert_eq!(decode("x", Datatype::Int(1), 1, &[0xff]).unwrap(), Values::Int(vec![Some(-1)]));
        assert_eq!(decode("x", Datatype::UInt(1), 1, &[0xff]).unwrap(), Values::Int(vec![Some(255)]));
        assert_eq!(decode("x", Datatype::F16, 1, &0x3e00u16.to_le_bytes()).unwrap(), Values::Float(vec![Some(1.5)]));
        let e = decode("x", Datatype::F32, 3, &bytes).unwrap_err().to_string();
        assert!(e.contains("8 binary bytes") && e.contains("take 12"), "{e}");
        assert!(decode("x", Datatype::UInt(8), 1, &u64::MAX.to_le_bytes()).is_err());
    }

    #[test]
    fn bytes_elements_are_length_prefixed_and_checked() {
        let mut bytes = Vec::new();
        encode_text(&["One year".into(), String::new()], &mut bytes);
        assert_eq!(
            decode("c", Datatype::Bytes, 2, &bytes).unwrap(),
            Values::Text(vec![Some("One year".into()), Some(String::new())])
        );
        let e = decode("c", Datatype::Bytes, 2, &bytes[..6]).unwrap_err().to_string();
        assert!(e.contains("says it has 8 bytes"), "{e}");
        assert!(decode("c", Datatype::Bytes, 3, &bytes).unwrap_err().to_string().contains("holds 3"));
        assert!(decode("c", Datatype::Bytes, 1, &[1, 0, 0, 0, 0xff]).unwrap_err().to_string().contains("UTF-8"));
        let (json, tail) = split(b"{}abc", "2").unwrap();
        assert_eq!((json, tail), (&b"{}"[..], &b"abc"[..]));
        assert!(split(b"{}", "9").is_err() && split(b"{}", "x").is_err());
        let mut t = Tail::new(b"abc");
        assert!(t.take("a", 4).is_err());
        assert_eq!(t.take("a", 2).unwrap(), b"ab");
        assert!(t.finish().is_err());
    }
}

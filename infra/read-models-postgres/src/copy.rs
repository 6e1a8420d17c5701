//! Rows in PostgreSQL's binary `COPY` format, for the bulk inserts of a
//! batch (`COPY … FROM STDIN (FORMAT binary)`): a fixed header, each row
//! as its field count and length-prefixed fields (length -1 for NULL), and
//! a trailer. Binary fields are the types' send formats: `bigint` as eight
//! big-endian bytes, `boolean` as one byte, `text` and `bytea` as their
//! bytes, and a one-dimensional `text[]` as dimensions, element type and
//! length-prefixed elements.
//!
//! `COPY` has no compile-time check as the `query!` statements do; the
//! tests of this module pin the encoding, and every test that writes
//! messages goes through it.

/// The signature every binary `COPY` stream starts with.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// The object id of `text`, the element type of the `text[]` fields.
const TEXT_OID: i32 = 25;

/// A binary `COPY` stream being written.
#[derive(Debug)]
pub(crate) struct BinaryCopy {
    buffer: Vec<u8>,
}

impl BinaryCopy {
    /// An empty stream (header only) with room for about `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> BinaryCopy {
        let mut buffer = Vec::with_capacity(capacity.max(32));
        buffer.extend_from_slice(SIGNATURE);
        // Flags (no OIDs) and the length of the header extension.
        buffer.extend_from_slice(&0i32.to_be_bytes());
        buffer.extend_from_slice(&0i32.to_be_bytes());
        BinaryCopy { buffer }
    }

    /// Starts a row of `fields` fields.
    pub(crate) fn row(&mut self, fields: i16) {
        self.buffer.extend_from_slice(&fields.to_be_bytes());
    }

    pub(crate) fn text(&mut self, value: &str) {
        self.bytes(value.as_bytes());
    }

    pub(crate) fn opt_text(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    pub(crate) fn bytes(&mut self, value: &[u8]) {
        self.length(value.len());
        self.buffer.extend_from_slice(value);
    }

    pub(crate) fn bigint(&mut self, value: i64) {
        self.buffer.extend_from_slice(&8i32.to_be_bytes());
        self.buffer.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn opt_bigint(&mut self, value: Option<i64>) {
        match value {
            Some(value) => self.bigint(value),
            None => self.null(),
        }
    }

    pub(crate) fn boolean(&mut self, value: bool) {
        self.buffer.extend_from_slice(&1i32.to_be_bytes());
        self.buffer.push(u8::from(value));
    }

    /// A one-dimensional `text[]` without NULL elements.
    pub(crate) fn text_array<'a>(&mut self, values: impl ExactSizeIterator<Item = &'a str>) {
        let count = values.len();
        let start = self.buffer.len();
        // The field's length, patched once the elements are written.
        self.buffer.extend_from_slice(&0i32.to_be_bytes());
        let dimensions = i32::from(count > 0);
        self.buffer.extend_from_slice(&dimensions.to_be_bytes());
        // No NULL elements.
        self.buffer.extend_from_slice(&0i32.to_be_bytes());
        self.buffer.extend_from_slice(&TEXT_OID.to_be_bytes());
        if count > 0 {
            self.length(count);
            // Lower bound.
            self.buffer.extend_from_slice(&1i32.to_be_bytes());
            for value in values {
                self.bytes(value.as_bytes());
            }
        }
        let length = self.buffer.len() - start - 4;
        self.buffer[start..start + 4].copy_from_slice(&field_length(length).to_be_bytes());
    }

    /// A one-dimensional `text[]` without NULL elements, or NULL for an
    /// empty list (cheaper to store and to decode than an empty array).
    pub(crate) fn text_array_or_null<'a>(&mut self, values: impl ExactSizeIterator<Item = &'a str>) {
        match values.len() {
            0 => self.null(),
            _ => self.text_array(values),
        }
    }

    /// The bytes written since the last `take` (the header, the first
    /// time), to send while more rows are written: a stream may go to the
    /// server in parts, `finish` giving the last.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        let capacity = self.buffer.capacity();
        std::mem::replace(&mut self.buffer, Vec::with_capacity(capacity))
    }

    /// The rest of the stream with its trailer, ready to send.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buffer.extend_from_slice(&(-1i16).to_be_bytes());
        self.buffer
    }

    fn null(&mut self) {
        self.buffer.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn length(&mut self, length: usize) {
        self.buffer.extend_from_slice(&field_length(length).to_be_bytes());
    }
}

/// A field's length as the format's `int32`. Fields are bounded far below
/// 2 GiB by the event size limit; a larger one saturates, and the server
/// then refuses the stream instead of misreading it.
fn field_length(length: usize) -> i32 {
    i32::try_from(length).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: usize = SIGNATURE.len() + 8;

    #[test]
    fn an_empty_stream_is_header_and_trailer() {
        let bytes = BinaryCopy::with_capacity(0).finish();
        assert_eq!(&bytes[..SIGNATURE.len()], SIGNATURE);
        assert_eq!(&bytes[SIGNATURE.len()..HEADER], &[0; 8]);
        assert_eq!(&bytes[HEADER..], &[0xff, 0xff]);
    }

    #[test]
    fn fields_are_length_prefixed_in_network_order() {
        let mut copy = BinaryCopy::with_capacity(0);
        copy.row(5);
        copy.text("ab");
        copy.opt_text(None);
        copy.bigint(258);
        copy.boolean(true);
        copy.opt_bigint(None);
        let bytes = copy.finish();
        let row = &bytes[HEADER..bytes.len() - 2];
        let expected: Vec<u8> = [
            &[0, 5][..],
            &[0, 0, 0, 2, b'a', b'b'],
            &[0xff, 0xff, 0xff, 0xff],
            &[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2],
            &[0, 0, 0, 1, 1],
            &[0xff, 0xff, 0xff, 0xff],
        ]
        .concat();
        assert_eq!(row, expected.as_slice());
    }

    #[test]
    fn a_stream_taken_in_parts_is_the_stream_written_at_once() {
        let write = |copy: &mut BinaryCopy, n: i64| {
            copy.row(2);
            copy.bigint(n);
            copy.text("row");
        };
        let mut whole = BinaryCopy::with_capacity(0);
        (0..3).for_each(|n| write(&mut whole, n));
        let mut parts = BinaryCopy::with_capacity(0);
        let mut sent = parts.take();
        assert_eq!(sent.len(), HEADER, "the first part is the header");
        for n in 0..3 {
            write(&mut parts, n);
            sent.extend(parts.take());
        }
        sent.extend(parts.finish());
        assert_eq!(sent, whole.finish());
    }

    #[test]
    fn arrays_carry_dimensions_element_type_and_elements() {
        let mut copy = BinaryCopy::with_capacity(0);
        copy.text_array(["x", "yz"].into_iter());
        copy.text_array(std::iter::empty());
        copy.text_array_or_null(std::iter::empty());
        copy.text_array_or_null(["x"].into_iter());
        let bytes = copy.finish();
        let fields = &bytes[HEADER..bytes.len() - 2];
        let expected: Vec<u8> = [
            // 1 dimension, no NULLs, text, 2 elements from index 1.
            &[0, 0, 0, 31][..],
            &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 2, 0, 0, 0, 1],
            &[0, 0, 0, 1, b'x', 0, 0, 0, 2, b'y', b'z'],
            // The empty array: no dimensions.
            &[0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25],
            // The empty list as NULL, a list of one as an array.
            &[0xff, 0xff, 0xff, 0xff],
            &[
                0, 0, 0, 25, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 1, 0, 0, 0, 1,
            ],
            &[0, 0, 0, 1, b'x'],
        ]
        .concat();
        assert_eq!(fields, expected.as_slice());
    }
}

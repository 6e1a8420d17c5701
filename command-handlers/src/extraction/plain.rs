//! Plain text: binary detection and lossy UTF-8 decoding.

/// Bytes inspected to tell text from binary data.
const SAMPLE: usize = 8 * 1024;

/// Whether `bytes` look like binary data rather than text: in the first
/// 8 KiB, more than 1% NUL bytes (no text encoding we read has them; UTF-16
/// is full of them) or more than 10% bytes that are not valid UTF-8.
pub(super) fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(SAMPLE)];
    if sample.is_empty() {
        return false;
    }
    let nul = sample.iter().filter(|&&b| b == 0).count();
    // A sample cut inside a character ends with up to 3 "invalid" bytes.
    let invalid: usize = sample.utf8_chunks().map(|chunk| chunk.invalid().len()).sum();
    nul * 100 > sample.len() || invalid.saturating_sub(3) * 10 > sample.len()
}

/// `bytes` as UTF-8, invalid sequences replaced by U+FFFD, without a
/// leading byte-order mark.
pub(super) fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::super::{ExtractError, extract_text};
    use super::*;

    #[test]
    fn plain_text_is_kept_as_utf8() {
        let text = "Grüße, 世界 😀\n\tindented line\n";
        assert_eq!(
            extract_text("text/plain", None, text.as_bytes()),
            Ok(text.to_owned())
        );
    }

    #[test]
    fn a_bom_is_dropped_and_invalid_bytes_replaced() {
        assert_eq!(decode(b"\xEF\xBB\xBFhello"), "hello");
        assert_eq!(
            extract_text("text/plain", None, b"caf\xE9 au lait"),
            Ok("caf\u{FFFD} au lait".to_owned())
        );
    }

    #[test]
    fn nul_heavy_or_mostly_invalid_data_is_binary() {
        let utf16: Vec<u8> = "hello world".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(looks_binary(&utf16));
        let noise: Vec<u8> = (0..4096u32).map(|i| (0x80 + (i * 7) % 0x40) as u8).collect();
        assert!(looks_binary(&noise));
        assert_eq!(
            extract_text("text/plain", None, &utf16),
            Err(ExtractError::Binary)
        );
    }

    #[test]
    fn text_with_a_stray_nul_or_a_cut_character_is_still_text() {
        let mut text = "x".repeat(1000).into_bytes();
        text.push(0);
        assert!(!looks_binary(&text));
        let long = "€".repeat(SAMPLE);
        assert!(!looks_binary(long.as_bytes()));
        assert!(!looks_binary(b""));
    }
}

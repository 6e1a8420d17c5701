//! Text extraction: the plain text of a document's content, for search.
//!
//! Pure functions of the bytes, the declared content type and the file
//! name: plain text (`text/plain`), Markdown (`text/markdown`, or a `.md`
//! name) and HTML (`text/html`). Everything else is
//! [`ExtractError::Unsupported`]; data that looks binary whatever its
//! declared type is [`ExtractError::Binary`]. Bytes are read as UTF-8, with
//! invalid sequences replaced (other charsets come out lossy).

mod html;
mod markdown;
mod plain;

/// A format text can be extracted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Plain,
    Markdown,
    Html,
}

/// Why no text was extracted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// No extractor handles this content type (PDF, images, …).
    #[error("no text extractor for content type `{content_type}`")]
    Unsupported { content_type: String },
    /// The content is declared as text but is not (NUL bytes, mostly
    /// invalid UTF-8).
    #[error("the content looks binary, not text")]
    Binary,
}

impl Format {
    /// The format of content declared as `content_type` (parameters such as
    /// `charset` are ignored) and named `name`. A `.md`/`.markdown` name
    /// makes `text/plain` or untyped content Markdown; `.txt` and
    /// `.html`/`.htm` names type untyped (`application/octet-stream`)
    /// content.
    pub fn detect(content_type: &str, name: Option<&str>) -> Option<Format> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let extension = name
            .and_then(|name| name.rsplit_once('.'))
            .map(|(_, extension)| extension.to_ascii_lowercase());
        let extension = extension.as_deref();
        match essence.as_str() {
            "text/markdown" | "text/x-markdown" => Some(Format::Markdown),
            "text/html" | "application/xhtml+xml" => Some(Format::Html),
            "text/plain" if matches!(extension, Some("md" | "markdown")) => Some(Format::Markdown),
            "text/plain" => Some(Format::Plain),
            "application/octet-stream" | "binary/octet-stream" => match extension {
                Some("md" | "markdown") => Some(Format::Markdown),
                Some("html" | "htm") => Some(Format::Html),
                Some("txt" | "text") => Some(Format::Plain),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Extracts the plain text of `bytes`, declared as `content_type` and named
/// `name`.
pub fn extract_text(content_type: &str, name: Option<&str>, bytes: &[u8]) -> Result<String, ExtractError> {
    let format = Format::detect(content_type, name).ok_or_else(|| ExtractError::Unsupported {
        content_type: content_type.to_owned(),
    })?;
    extract_format(format, bytes)
}

/// Extracts the plain text of `bytes` in a known format.
pub fn extract_format(format: Format, bytes: &[u8]) -> Result<String, ExtractError> {
    if plain::looks_binary(bytes) {
        return Err(ExtractError::Binary);
    }
    let text = plain::decode(bytes);
    Ok(match format {
        Format::Plain => text,
        Format::Markdown => markdown::to_text(&text),
        Format::Html => html::to_text(&text),
    })
}

/// Collapses runs of whitespace, trims every line, and drops empty lines
/// (but one between paragraphs when `keep_paragraphs`).
fn tidy(text: &str, keep_paragraphs: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_pending = false;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            blank_pending = keep_paragraphs && !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_pending { "\n\n" } else { "\n" });
        }
        blank_pending = false;
        out.push_str(&words.join(" "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_content_type_then_the_name() {
        let cases = [
            ("text/plain", None, Some(Format::Plain)),
            (
                "text/plain; charset=utf-8",
                Some("notes.txt"),
                Some(Format::Plain),
            ),
            ("text/plain", Some("README.md"), Some(Format::Markdown)),
            ("text/markdown", None, Some(Format::Markdown)),
            ("Text/HTML; charset=UTF-8", None, Some(Format::Html)),
            ("application/octet-stream", Some("a.MD"), Some(Format::Markdown)),
            ("application/octet-stream", Some("page.htm"), Some(Format::Html)),
            ("application/octet-stream", Some("blob"), None),
            ("application/pdf", Some("report.md"), None),
            ("image/png", None, None),
        ];
        for (content_type, name, expected) in cases {
            assert_eq!(
                Format::detect(content_type, name),
                expected,
                "{content_type} {name:?}"
            );
        }
    }

    #[test]
    fn unsupported_types_are_reported() {
        assert_eq!(
            extract_text("application/pdf", Some("r.pdf"), b"%PDF-1.7"),
            Err(ExtractError::Unsupported {
                content_type: "application/pdf".to_owned()
            })
        );
    }

    #[test]
    fn binary_content_is_refused_whatever_its_declared_type() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(std::iter::repeat_n(0u8, 200));
        for content_type in ["text/plain", "text/markdown", "text/html"] {
            assert_eq!(extract_text(content_type, None, &png), Err(ExtractError::Binary));
        }
    }

    #[test]
    fn tidy_collapses_spaces_and_blank_lines() {
        assert_eq!(tidy("  a \t b  \n\n\n\n c\n  \n", true), "a b\n\nc");
        assert_eq!(tidy("  a \t b  \n\n\n\n c\n  \n", false), "a b\nc");
        assert_eq!(tidy("\n\n x", true), "x");
    }
}

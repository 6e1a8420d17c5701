//! Markdown: the text of the document's text and code events, with block
//! boundaries as line breaks; markup, raw HTML and link targets dropped.

use pulldown_cmark::{Event, Options, Parser, TagEnd};

pub(super) fn to_text(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut text = String::with_capacity(markdown.len());
    let mut in_metadata = false;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(pulldown_cmark::Tag::MetadataBlock(_)) => in_metadata = true,
            Event::End(TagEnd::MetadataBlock(_)) => in_metadata = false,
            Event::Text(t) | Event::Code(t) if !in_metadata => text.push_str(&t),
            Event::SoftBreak => text.push(' '),
            Event::HardBreak => text.push('\n'),
            Event::End(TagEnd::TableCell) => text.push('\t'),
            Event::End(end) if is_block(&end) => text.push_str("\n\n"),
            _ => {}
        }
    }
    super::tidy(&text, true)
}

fn is_block(end: &TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::FootnoteDefinition
            | TagEnd::Table
            | TagEnd::TableHead
            | TagEnd::TableRow
    )
}

#[cfg(test)]
mod tests {
    use super::super::extract_text;

    #[test]
    fn markup_is_dropped_and_text_kept() {
        let markdown = "---\ntitle: secret front matter\n---\n\
            # Quarterly *report*\n\nRevenue **rose** by `12%`, see [the table](https://x.test/t).\n\n\
            - first item\n- second\n\n```rust\nfn main() {}\n```\n\n<div>raw html</div>\n\n\
            | a | b |\n|---|---|\n| 1 | 2 |\n";
        let text = extract_text("text/markdown", None, markdown.as_bytes()).unwrap();
        assert_eq!(
            text,
            "Quarterly report\n\nRevenue rose by 12%, see the table.\n\nfirst item\n\nsecond\n\n\
             fn main() {}\n\na b\n\n1 2"
        );
    }

    #[test]
    fn a_md_name_makes_plain_text_markdown() {
        let text = extract_text("text/plain", Some("README.md"), b"## Setup\nRun *it*.").unwrap();
        assert_eq!(text, "Setup\n\nRun it.");
    }
}

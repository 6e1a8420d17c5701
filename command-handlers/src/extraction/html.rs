//! HTML: the document's text nodes, without `<script>`, `<style>`,
//! `<noscript>` and `<template>` contents, with block elements as line
//! breaks. Parsed by html5ever (through `scraper`), which copes with any
//! malformed input as browsers do.

use scraper::{Html, Node};

/// Elements whose content is not text for a reader.
const SKIPPED: &[&str] = &["script", "style", "noscript", "template"];

/// Elements that start a new line.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "title",
    "tr",
    "ul",
];

pub(super) fn to_text(html: &str) -> String {
    let document = Html::parse_document(html);
    let mut text = String::with_capacity(html.len() / 2);
    // An explicit stack rather than recursion: nesting depth is the
    // uploader's choice. `true` marks an element's closing.
    let mut stack = vec![(document.tree.root(), false)];
    while let Some((node, closing)) = stack.pop() {
        match node.value() {
            Node::Element(element) if SKIPPED.contains(&element.name()) => continue,
            Node::Element(element) if BLOCKS.contains(&element.name()) => text.push('\n'),
            Node::Element(element) if !closing && matches!(element.name(), "td" | "th") => text.push('\t'),
            Node::Text(t) if !closing => text.push_str(t),
            _ => {}
        }
        if !closing {
            stack.push((node, true));
            stack.extend(node.children().rev().map(|child| (child, false)));
        }
    }
    super::tidy(&text, false)
}

#[cfg(test)]
mod tests {
    use super::super::extract_text;

    #[test]
    fn text_is_kept_and_scripts_and_styles_skipped() {
        let html = r#"<!doctype html><html><head><title>Q3 &amp; more</title>
            <style>body { color: red }</style><script>var secret = 1;</script></head>
            <body><h1>Quarterly   report</h1><p>Revenue <b>rose</b> by 12%.<br>Costs fell.</p>
            <noscript>enable js</noscript><ul><li>one</li><li>two</li></ul>
            <table><tr><td>a</td><td>b</td></tr></table><!-- a comment --></body></html>"#;
        let text = extract_text("text/html; charset=utf-8", None, html.as_bytes()).unwrap();
        assert_eq!(
            text,
            "Q3 & more\nQuarterly report\nRevenue rose by 12%.\nCosts fell.\none\ntwo\na b"
        );
    }

    #[test]
    fn malformed_html_still_yields_its_text() {
        let text = extract_text("text/html", None, b"<p>open <i>never closed<div>next").unwrap();
        assert_eq!(text, "open never closed\nnext");
    }
}

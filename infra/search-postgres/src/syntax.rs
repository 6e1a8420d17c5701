//! The port's query syntax, parsed in Rust and rendered as the text of a
//! PostgreSQL `tsquery` whose every operand is a quoted, escaped literal.
//!
//! The rendered text is bound as a parameter of `to_tsquery('simple', $1)`,
//! never spliced into SQL; PostgreSQL then splits and lowercases each
//! operand with the same parser that built the indexed `tsvector`, so a
//! query word matches exactly what indexing made of the same word (a
//! quoted operand of several words, like `"grebe report"` or `10:30`,
//! becomes a phrase).
//!
//! # Grammar
//!
//! ```text
//! query   := or
//! or      := and ("OR" and)*
//! and     := unary (["AND"] unary)*          adjacent terms are ANDed
//! unary   := ("-" | "NOT") unary | "+" unary | primary
//! primary := field ":" primary | word | "\"" phrase "\"" | "(" or ")"
//! field   := "title" | "body"
//! ```
//!
//! `AND`, `OR` and `NOT` are operators only in capitals; `\` escapes the
//! next character. A word or phrase without a letter or digit matches
//! nothing and is dropped, as tantivy drops a term that yields no token.
//! Unqualified words search the title (weight A) and the body (B).
//!
//! Refused, as [`QueryError::InvalidArgument`] naming `query`: an empty or
//! over-long query, unbalanced parentheses or quotes, a dangling operator,
//! an unknown field, nesting deeper than [`MAX_DEPTH`], a query with no
//! word left, and one whose every match would have to be found without a
//! word (`-x`, `a OR -b`): each hit must contain a word the query looks
//! for, so the text index can find the candidates.

use quire_projections::query::QueryError;

/// Longest accepted query, in bytes (as the embedded index).
pub const MAX_QUERY_BYTES: usize = 1024;
/// Deepest accepted nesting of parentheses and operators.
pub const MAX_DEPTH: usize = 32;

/// Which part of an entry a word must occur in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Any,
    Title,
    Body,
}

impl Field {
    /// The `tsquery` weight restriction: the title is weighted A, the
    /// body B.
    fn weights(self) -> &'static str {
        match self {
            Field::Any => "AB",
            Field::Title => "A",
            Field::Body => "B",
        }
    }
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    /// A word or a phrase, as typed.
    Words {
        text: String,
        field: Field,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Word(String),
    Phrase(String),
    Field(String),
    Minus,
    Plus,
    And,
    Or,
    Not,
}

fn invalid(message: impl std::fmt::Display) -> QueryError {
    QueryError::InvalidArgument(format!("query {message}"))
}

/// Translates `query` into `tsquery` text for `to_tsquery('simple', …)`.
pub fn to_tsquery(query: &str) -> Result<String, QueryError> {
    if query.trim().is_empty() {
        return Err(invalid("is empty"));
    }
    if query.len() > MAX_QUERY_BYTES {
        return Err(invalid(format_args!(
            "is {} bytes, more than the maximum of {MAX_QUERY_BYTES}",
            query.len()
        )));
    }
    let tokens = lex(query)?;
    let mut parser = Parser { tokens, next: 0 };
    let node = parser.query()?;
    let node = simplify(node).ok_or_else(|| invalid("has no word to search for"))?;
    if !anchored(&node) {
        return Err(invalid(
            "needs a word that is not excluded (`-x` alone matches nearly everything)",
        ));
    }
    let mut out = String::new();
    render(&node, &mut out);
    Ok(out)
}

/// Splits the query into tokens.
fn lex(query: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if is_space(c) => {
                chars.next();
            }
            '(' | ')' => {
                chars.next();
                tokens.push(if c == '(' { Token::Open } else { Token::Close });
            }
            '"' => {
                chars.next();
                tokens.push(Token::Phrase(phrase(&mut chars)?));
            }
            '-' | '+' => {
                chars.next();
                match chars.peek() {
                    Some(&next) if !is_space(next) && next != ')' => {
                        tokens.push(if c == '-' { Token::Minus } else { Token::Plus });
                    }
                    _ => tokens.push(Token::Word(c.to_string())),
                }
            }
            _ => tokens.push(word(&mut chars)),
        }
    }
    Ok(tokens)
}

/// Control characters (NUL included, which PostgreSQL text refuses)
/// separate words like spaces.
fn is_space(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// The rest of a phrase whose opening quote was read.
fn phrase(chars: &mut Chars<'_>) -> Result<String, QueryError> {
    let mut text = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(text),
            '\\' => text.extend(chars.next()),
            c if is_space(c) => text.push(' '),
            c => text.push(c),
        }
    }
    Err(invalid("has a quote that is not closed"))
}

/// A word, an operator, or a field name followed by `:`.
fn word(chars: &mut Chars<'_>) -> Token {
    let mut text = String::new();
    let mut escaped = false;
    while let Some(&c) = chars.peek() {
        if is_space(c) || matches!(c, '(' | ')' | '"') {
            break;
        }
        chars.next();
        match c {
            '\\' => {
                escaped = true;
                text.extend(chars.next().filter(|c| !is_space(*c)));
            }
            ':' if !escaped && is_field_name(&text) => return Token::Field(text),
            c => text.push(c),
        }
    }
    match text.as_str() {
        "AND" if !escaped => Token::And,
        "OR" if !escaped => Token::Or,
        "NOT" if !escaped => Token::Not,
        _ => Token::Word(text),
    }
}

/// A name that is read as a field before a `:` (`10:30` is a word).
fn is_field_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A recursive-descent parser over the tokens.
struct Parser {
    tokens: Vec<Token>,
    next: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    fn query(&mut self) -> Result<Node, QueryError> {
        let node = self.or(Field::Any, 0)?;
        match self.peek() {
            None => Ok(node),
            Some(Token::Close) => Err(invalid("has a `)` without its `(`")),
            Some(token) => Err(invalid(format_args!("has an unexpected {token:?}"))),
        }
    }

    fn or(&mut self, field: Field, depth: usize) -> Result<Node, QueryError> {
        check_depth(depth)?;
        let mut any = vec![self.and(field, depth)?];
        while self.peek() == Some(&Token::Or) {
            self.advance();
            any.push(self.and(field, depth)?);
        }
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Node::Or(any)
        })
    }

    fn and(&mut self, field: Field, depth: usize) -> Result<Node, QueryError> {
        let mut all = vec![self.unary(field, depth)?];
        loop {
            match self.peek() {
                None | Some(Token::Close | Token::Or) => break,
                Some(Token::And) => {
                    self.advance();
                    all.push(self.unary(field, depth)?);
                }
                Some(_) => all.push(self.unary(field, depth)?),
            }
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Node::And(all)
        })
    }

    fn unary(&mut self, field: Field, depth: usize) -> Result<Node, QueryError> {
        check_depth(depth)?;
        match self.peek() {
            Some(Token::Minus | Token::Not) => {
                self.advance();
                let inner = self.unary(field, depth + 1)?;
                Ok(Node::Not(Box::new(inner)))
            }
            Some(Token::Plus) => {
                self.advance();
                self.unary(field, depth + 1)
            }
            _ => self.primary(field, depth),
        }
    }

    fn primary(&mut self, field: Field, depth: usize) -> Result<Node, QueryError> {
        check_depth(depth)?;
        match self.advance() {
            Some(Token::Word(text) | Token::Phrase(text)) => Ok(Node::Words { text, field }),
            Some(Token::Field(name)) => self.primary(field_named(&name)?, depth + 1),
            Some(Token::Open) => {
                let inner = self.or(field, depth + 1)?;
                match self.advance() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(invalid("has a `(` without its `)`")),
                }
            }
            Some(Token::Close) => Err(invalid("has a `)` where a word is expected")),
            Some(Token::And | Token::Or) => Err(invalid("has AND or OR without a word on each side")),
            Some(Token::Not | Token::Minus | Token::Plus) | None => {
                Err(invalid("ends where a word is expected"))
            }
        }
    }
}

fn check_depth(depth: usize) -> Result<(), QueryError> {
    if depth > MAX_DEPTH {
        return Err(invalid(format_args!("nests deeper than {MAX_DEPTH} levels")));
    }
    Ok(())
}

fn field_named(name: &str) -> Result<Field, QueryError> {
    match name {
        "title" => Ok(Field::Title),
        "body" => Ok(Field::Body),
        other => Err(invalid(format_args!(
            "names the unknown field `{other}` (fields: title, body)"
        ))),
    }
}

/// Drops words that hold no letter or digit (they match nothing) and the
/// operators left empty; `None` if nothing is left.
fn simplify(node: Node) -> Option<Node> {
    match node {
        Node::Words { ref text, .. } => text.chars().any(char::is_alphanumeric).then_some(node),
        Node::Not(inner) => simplify(*inner).map(|inner| Node::Not(Box::new(inner))),
        Node::And(all) => collapse(all.into_iter().filter_map(simplify).collect(), Node::And),
        Node::Or(any) => collapse(any.into_iter().filter_map(simplify).collect(), Node::Or),
    }
}

fn collapse(mut nodes: Vec<Node>, make: fn(Vec<Node>) -> Node) -> Option<Node> {
    match nodes.len() {
        0 => None,
        1 => nodes.pop(),
        _ => Some(make(nodes)),
    }
}

/// Whether every match must contain one of the query's words.
fn anchored(node: &Node) -> bool {
    match node {
        Node::Words { .. } => true,
        Node::Not(_) => false,
        Node::And(all) => all.iter().any(anchored),
        Node::Or(any) => any.iter().all(anchored),
    }
}

/// Writes `node` as `tsquery` text: operands quoted (`'` doubled, `\`
/// escaped) with their weights, operators parenthesised.
fn render(node: &Node, out: &mut String) {
    match node {
        Node::Words { text, field } => {
            out.push('\'');
            for c in text.chars() {
                match c {
                    '\'' => out.push_str("''"),
                    '\\' => out.push_str("\\\\"),
                    c => out.push(c),
                }
            }
            out.push_str("':");
            out.push_str(field.weights());
        }
        Node::Not(inner) => {
            out.push_str("!(");
            render(inner, out);
            out.push(')');
        }
        Node::And(nodes) | Node::Or(nodes) => {
            let op = if matches!(node, Node::And(_)) {
                " & "
            } else {
                " | "
            };
            out.push('(');
            for (n, inner) in nodes.iter().enumerate() {
                if n > 0 {
                    out.push_str(op);
                }
                render(inner, out);
            }
            out.push(')');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(query: &str) -> String {
        to_tsquery(query).unwrap_or_else(|e| panic!("{query:?}: {e}"))
    }

    fn refused(query: &str) -> String {
        match to_tsquery(query) {
            Err(QueryError::InvalidArgument(message)) => {
                assert!(message.starts_with("query "), "{message}");
                message
            }
            other => panic!("{query:?} gave {other:?}"),
        }
    }

    #[test]
    fn words_are_anded_and_weighted() {
        assert_eq!(ok("grebe"), "'grebe':AB");
        assert_eq!(ok("grebe report"), "('grebe':AB & 'report':AB)");
        assert_eq!(ok("grebe AND report"), "('grebe':AB & 'report':AB)");
        assert_eq!(ok("title:heron"), "'heron':A");
        assert_eq!(ok("body:\"grebe report\""), "'grebe report':B");
        assert_eq!(ok("title:(a OR b) c"), "(('a':A | 'b':A) & 'c':AB)");
    }

    #[test]
    fn or_binds_looser_than_and() {
        assert_eq!(ok("a OR b c"), "('a':AB | ('b':AB & 'c':AB))");
        assert_eq!(ok("first OR revived"), "('first':AB | 'revived':AB)");
        assert_eq!(ok("(a OR b) c"), "(('a':AB | 'b':AB) & 'c':AB)");
    }

    #[test]
    fn exclusions_need_a_positive_word() {
        assert_eq!(ok("grebe -report"), "('grebe':AB & !('report':AB))");
        assert_eq!(ok("grebe NOT report"), "('grebe':AB & !('report':AB))");
        assert_eq!(ok("+grebe"), "'grebe':AB");
        refused("-report");
        refused("a OR -b");
        refused("NOT a");
    }

    #[test]
    fn operands_are_escaped() {
        assert_eq!(ok("it's"), "'it''s':AB");
        assert_eq!(ok(r"a\\b"), r"'a\\b':AB");
        assert_eq!(ok("x' | 'y"), "('x''':AB & '''y':AB)");
        assert_eq!(ok("10:30"), "'10:30':AB");
        assert_eq!(ok(r"\(grebe\)"), "'(grebe)':AB");
        assert_eq!(ok("a\0b"), "('a':AB & 'b':AB)");
    }

    #[test]
    fn punctuation_alone_is_dropped() {
        assert_eq!(ok("grebe - report"), "('grebe':AB & 'report':AB)");
        assert_eq!(ok("grebe OR !!!"), "'grebe':AB");
        refused("!!!");
        refused("\"\"");
    }

    #[test]
    fn malformed_queries_are_refused_naming_the_query() {
        for query in [
            "(grebe",
            "grebe)",
            "title:\"grebe",
            "nosuchfield:grebe",
            "",
            "   ",
            "AND grebe",
            "grebe OR",
            "grebe AND",
            "NOT",
            "()",
            "title:",
        ] {
            refused(query);
        }
        assert!(refused("nosuchfield:x").contains("nosuchfield"));
        refused(&"a ".repeat(600));
        refused(&format!("{}a{}", "(".repeat(40), ")".repeat(40)));
    }
}

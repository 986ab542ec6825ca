//! The hierarchy file as a tree of YAML nodes, each with the line the YAML
//! parser found it on, so a message points at the key or item to fix
//! without searching the text again.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

use super::error::Problems;

/// One value of the file and the line (1-based) where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    pub line: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// A scalar as written; `plain` when unquoted, so `true`, `3` and `~`
    /// keep their YAML meaning while `"true"` stays a string.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A key of a map, its line, and its value.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub line: usize,
    pub value: Node,
}

impl Node {
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            Kind::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match &self.kind {
            Kind::Scalar { text, plain: true } => text.parse().ok(),
            _ => None,
        }
    }

    /// A string, number or other scalar's text; not null, not a boolean.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } if !self.is_null() && self.as_bool().is_none() => Some(text),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entry of a map for `key`.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    /// A string, or a problem "{what} must be a string" at its line.
    pub fn text(&self, p: &mut Problems, what: &str) -> Option<String> {
        let s = self.as_str().map(str::to_string);
        if s.is_none() {
            p.push(self.line, format!("{what} must be a string"));
        }
        s
    }

    /// A list of strings (null is empty), each with its line.
    pub fn texts(&self, p: &mut Problems, what: &str) -> Vec<(String, usize)> {
        if self.is_null() {
            return Vec::new();
        }
        match self.as_seq() {
            Some(items) => items
                .iter()
                .filter_map(|i| Some((i.text(p, &format!("each of {what}"))?, i.line)))
                .collect(),
            None => {
                p.push(self.line, format!("{what} must be a list, e.g. `[a, b]`"));
                Vec::new()
            }
        }
    }
}

/// The file's first document (an empty file is a null node). A syntax
/// error or a key given twice is a problem; `None` when the tree is unusable.
pub fn parse(text: &str, p: &mut Problems) -> Option<Node> {
    let mut b = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        problems: p,
    };
    match b.document() {
        Ok(node) => Some(node),
        Err(e) => {
            let info = e.info();
            let message = if info.contains("tab") {
                "a tab is used for indentation: YAML indents with spaces only".to_string()
            } else {
                format!("not valid YAML: {info}")
            };
            b.problems.push(e.marker().line(), message);
            None
        }
    }
}

struct Builder<'t, 'p> {
    parser: Parser<'t, saphyr_parser::StrInput<'t>>,
    anchors: HashMap<usize, Node>,
    problems: &'p mut Problems,
}

impl<'t> Builder<'t, '_> {
    fn next(&mut self) -> Result<(Event<'t>, Span), ScanError> {
        self.parser.next_event().unwrap_or_else(|| {
            Err(ScanError::new_str(
                Default::default(),
                "the file ends in the middle of a value",
            ))
        })
    }

    fn document(&mut self) -> Result<Node, ScanError> {
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentStart(_) => {}
                Event::StreamEnd => {
                    return Ok(Node {
                        line: 1,
                        kind: Kind::Scalar {
                            text: String::new(),
                            plain: true,
                        },
                    })
                }
                event => return self.node(event, span),
            }
        }
    }

    fn node(&mut self, event: Event<'t>, span: Span) -> Result<Node, ScanError> {
        let line = span.start.line();
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => (
                Node {
                    line,
                    kind: Kind::Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain && tag.is_none(),
                    },
                },
                anchor,
            ),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        (Event::SequenceEnd, _) => break,
                        (event, span) => items.push(self.node(event, span)?),
                    }
                }
                (
                    Node {
                        line,
                        kind: Kind::Seq(items),
                    },
                    anchor,
                )
            }
            Event::MappingStart(anchor, _) => (self.map(line)?, anchor),
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(n) => return Ok(n.clone()),
                None => return Err(ScanError::new_str(span.start, "unknown alias")),
            },
            _ => return Err(ScanError::new_str(span.start, "unexpected event")),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn map(&mut self, line: usize) -> Result<Node, ScanError> {
        let mut entries: Vec<Entry> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if event == Event::MappingEnd {
                break;
            }
            let key = self.node(event, span)?;
            let (event, span) = self.next()?;
            let value = self.node(event, span)?;
            let Kind::Scalar { text, .. } = key.kind else {
                self.problems
                    .push(key.line, "a key must be a word, not a list or map".into());
                continue;
            };
            if let Some(first) = entries.iter().find(|e| e.key == text) {
                let message = format!(
                    "`{text}` is given twice in this map (first on line {}); keep one",
                    first.line
                );
                self.problems.push(key.line, message);
                continue;
            }
            entries.push(Entry {
                key: text,
                line: key.line,
                value,
            });
        }
        Ok(Node {
            line,
            kind: Kind::Map(entries),
        })
    }
}

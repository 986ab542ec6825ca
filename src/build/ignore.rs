//! `.dockerignore`, read and matched as the docker CLI does (moby's
//! `patternmatcher`): patterns are cleaned paths relative to the context,
//! `*` and `?` stay within one path element, `**` crosses them, `[...]` is a
//! class, `!` re-includes, the last matching pattern wins, and a pattern that
//! matches a directory matches everything under it.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Lit(char),
    /// `?`: one character, not `/`.
    One,
    /// `*`: any run of characters without `/`.
    Star,
    /// `**` (not followed by `/`): anything.
    Any,
    /// `**/`: zero or more whole path elements.
    AnyDirs,
    /// `[...]`: ranges, negated when it starts with `^` or `!`.
    Class(Vec<(char, char)>, bool),
}

#[derive(Debug, Clone)]
struct Pattern {
    tokens: Vec<Token>,
    exclusion: bool,
}

/// The patterns of one `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

impl Ignore {
    /// Parses the file's text. A pattern that cannot be parsed (an unclosed
    /// `[`) is an error naming it.
    pub fn parse(text: &str) -> Result<Ignore, String> {
        let mut patterns = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut p = line.trim();
            if p.is_empty() {
                continue;
            }
            let exclusion = p.starts_with('!');
            if exclusion {
                p = p[1..].trim();
            }
            let cleaned = clean(p);
            let cleaned = cleaned.strip_prefix('/').unwrap_or(&cleaned).to_string();
            if cleaned.is_empty() {
                continue;
            }
            let tokens = tokenize(&cleaned).map_err(|e| format!("pattern `{line}`: {e}"))?;
            patterns.push(Pattern { tokens, exclusion });
        }
        Ok(Ignore { patterns })
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out.
    pub fn excludes(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        let mut matched = false;
        for p in &self.patterns {
            let mut hit = matches(&p.tokens, path);
            // A pattern naming a directory takes everything under it.
            if !hit {
                for n in 1..parts.len() {
                    if matches(&p.tokens, &parts[..n].join("/")) {
                        hit = true;
                        break;
                    }
                }
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Whether any `!` pattern exists: then an excluded directory must still
    /// be walked, since a file under it may be let back in.
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }
}

/// Go's `filepath.Clean` for `/`-separated relative paths.
fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

fn tokenize(p: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                if chars.get(i + 1) == Some(&'*') {
                    while chars.get(i + 1) == Some(&'*') {
                        i += 1;
                    }
                    if chars.get(i + 1) == Some(&'/') {
                        i += 1;
                        out.push(Token::AnyDirs);
                    } else {
                        out.push(Token::Any);
                    }
                } else {
                    out.push(Token::Star);
                }
            }
            '?' => out.push(Token::One),
            '\\' => {
                i += 1;
                let c = *chars.get(i).ok_or("ends with a lone `\\`")?;
                out.push(Token::Lit(c));
            }
            '[' => {
                let mut j = i + 1;
                let negated = matches!(chars.get(j), Some('^') | Some('!'));
                if negated {
                    j += 1;
                }
                let mut ranges = Vec::new();
                let mut first = true;
                loop {
                    let c = *chars.get(j).ok_or("`[` is never closed with `]`")?;
                    if c == ']' && !first {
                        break;
                    }
                    first = false;
                    let lo = if c == '\\' {
                        j += 1;
                        *chars.get(j).ok_or("`[` is never closed with `]`")?
                    } else {
                        c
                    };
                    if chars.get(j + 1) == Some(&'-') && chars.get(j + 2).is_some_and(|c| *c != ']')
                    {
                        ranges.push((lo, chars[j + 2]));
                        j += 3;
                    } else {
                        ranges.push((lo, lo));
                        j += 1;
                    }
                }
                out.push(Token::Class(ranges, negated));
                i = j;
            }
            c => out.push(Token::Lit(c)),
        }
        i += 1;
    }
    Ok(out)
}

fn matches(tokens: &[Token], path: &str) -> bool {
    let s: Vec<char> = path.chars().collect();
    match_at(tokens, &s)
}

fn match_at(tokens: &[Token], s: &[char]) -> bool {
    let Some((t, rest)) = tokens.split_first() else {
        return s.is_empty();
    };
    match t {
        Token::Lit(c) => s.first() == Some(c) && match_at(rest, &s[1..]),
        Token::One => s.first().is_some_and(|c| *c != '/') && match_at(rest, &s[1..]),
        Token::Class(ranges, negated) => {
            s.first().is_some_and(|c| {
                *c != '/' && (ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated)
            }) && match_at(rest, &s[1..])
        }
        Token::Star => {
            for n in 0..=s.len() {
                if match_at(rest, &s[n..]) {
                    return true;
                }
                if n < s.len() && s[n] == '/' {
                    return false;
                }
            }
            false
        }
        Token::Any => (0..=s.len()).any(|n| match_at(rest, &s[n..])),
        Token::AnyDirs => {
            // Zero elements, or up to and including any `/`.
            match_at(rest, s) || (0..s.len()).any(|n| s[n] == '/' && match_at(rest, &s[n + 1..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ig(text: &str) -> Ignore {
        Ignore::parse(text).unwrap()
    }

    #[test]
    fn patterns_as_the_docker_cli_reads_them() {
        let i = ig("# comment\n*.md\n!README.md\n/build\nsecrets/**\ntmp?\n**/*.pyc\n");
        assert!(i.excludes("notes.md"));
        assert!(!i.excludes("README.md"));
        assert!(!i.excludes("docs/notes.md"), "* stays in one element");
        assert!(i.excludes("build"));
        assert!(
            i.excludes("build/out/x.o"),
            "a directory takes what is under it"
        );
        assert!(i.excludes("secrets/a/b"));
        assert!(i.excludes("tmp1"));
        assert!(!i.excludes("tmp12"));
        assert!(i.excludes("x.pyc") && i.excludes("a/b/x.pyc"));
        assert!(!i.excludes("start.sh"));
        assert!(i.has_exclusions());
    }

    #[test]
    fn last_match_wins_and_classes() {
        let i = ig("data\n!data/keep\n[a-c]?.txt\n");
        assert!(i.excludes("data/drop"));
        assert!(!i.excludes("data/keep"));
        assert!(i.excludes("b1.txt") && !i.excludes("d1.txt"));
        let i = ig("./a/../b/\n");
        assert!(i.excludes("b/c"));
        assert!(Ignore::parse("[abc\n")
            .unwrap_err()
            .contains("never closed"));
    }
}

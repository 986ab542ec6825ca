//! Constraints as conda's match specs read them: `numpy` (any version),
//! `python=3.11` (3.11 or 3.11.x), `python==3.11.2` (exactly), `>=`, `>`,
//! `<=`, `<`, `!=`, several joined by commas (`numpy>=1.24,<2`), and an
//! optional manager in front (`conda:numpy>=1.26`, `tag:python=3.11`).
//! `image`, `platform` and `variant` name the build itself
//! (`image=r-notebook`, exact). A version alone right after a name
//! (`numpy 1.26`) means `numpy=1.26`.

use std::fmt;

use super::version::Scheme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`: the version or any version under it.
    Prefix,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    pub fn text(self) -> &'static str {
        match self {
            Op::Prefix => "=",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

/// One constraint of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub manager: Option<String>,
    /// As typed.
    pub name: String,
    /// As the catalog keys it ([`normalize`]).
    pub key: String,
    pub ops: Vec<(Op, String)>,
}

/// The manager of the build's own fields (`image=...`).
pub const BUILD: &str = "build";
/// The manager of tagger values (`python` of the tag `python-3.11.6`).
pub const TAG: &str = "tag";
/// Build fields a term can name.
pub const FIELDS: [&str; 3] = ["image", "platform", "variant"];

/// The managers every catalog knows; declared sections add their own.
pub const MANAGERS: [&str; 7] = ["apt", "pip", "conda", "r", "julia", TAG, BUILD];

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.manager {
            Some(m) if m == BUILD && FIELDS.contains(&self.key.as_str()) => {}
            Some(m) => write!(f, "{m}:")?,
            None => {}
        }
        write!(f, "{}", self.name)?;
        for (i, (op, v)) in self.ops.iter().enumerate() {
            if i > 0 {
                write!(f, ",")?;
            }
            write!(f, "{}{v}", op.text())?;
        }
        Ok(())
    }
}

/// Package names compare as PEP 503 says: case-insensitive, and `_`, `.`
/// and `-` alike.
pub fn normalize(name: &str) -> String {
    name.to_ascii_lowercase()
        .chars()
        .map(|c| if c == '_' || c == '.' { '-' } else { c })
        .collect()
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')
}

fn version_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '~' | ':' | '!' | '*')
}

/// Reads the words of a query into terms; `managers` are the ones the
/// catalog has (besides [`MANAGERS`]). The error says which word is wrong
/// and how to write it.
pub fn parse(words: &[String], managers: &[String]) -> Result<Vec<Term>, String> {
    let mut terms: Vec<Term> = Vec::new();
    for word in words.iter().flat_map(|w| w.split_whitespace()) {
        let starts_version = word.starts_with(|c: char| c.is_ascii_digit());
        if starts_version {
            match terms.last_mut() {
                Some(t) if t.ops.is_empty() => {
                    t.ops = ops(word, &format!("{}={word}", t.name), true)?;
                    check(t)?;
                    continue;
                }
                _ => {
                    return Err(format!(
                        "`{word}`: a version needs a package before it, e.g. `numpy {word}` or `numpy={word}`"
                    ))
                }
            }
        }
        let term = term(word, managers)?;
        terms.push(term);
    }
    Ok(terms)
}

/// One word: `[manager:]name[ops]`.
pub fn term(word: &str, managers: &[String]) -> Result<Term, String> {
    let (manager, rest) = match word.split_once(':') {
        Some((m, r))
            if !m.is_empty()
                && m.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !r.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            let m = m.to_ascii_lowercase();
            if !MANAGERS.contains(&m.as_str()) && !managers.contains(&m) {
                let mut known: Vec<String> = MANAGERS.iter().map(|s| s.to_string()).collect();
                known.extend(
                    managers
                        .iter()
                        .filter(|m| !MANAGERS.contains(&m.as_str()))
                        .cloned(),
                );
                return Err(format!(
                    "`{word}`: no manager `{m}`; the catalog knows {}",
                    known.join(", ")
                ));
            }
            (Some(m), r)
        }
        _ => (None, word),
    };
    let end = rest.find(|c: char| !name_char(c)).unwrap_or(rest.len());
    let (name, tail) = rest.split_at(end);
    if name.is_empty() {
        return Err(format!(
            "`{word}`: no package name; write `name`, `name=1.2`, `name>=1.2`, or `manager:name...`"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "`{word}`: a package name starts with a letter or digit"
        ));
    }
    if let Some(bad) = tail.chars().next().filter(|c| !"=<>!~".contains(*c)) {
        return Err(format!(
            "`{word}`: `{bad}` cannot be in a package name (letters, digits, `.`, `_`, `-`, `+`)"
        ));
    }
    let mut t = Term {
        manager,
        name: name.to_string(),
        key: normalize(name),
        ops: if tail.is_empty() {
            Vec::new()
        } else {
            ops(tail, word, false)?
        },
    };
    if FIELDS.contains(&t.key.as_str()) && t.manager.as_deref().is_none_or(|m| m == BUILD) {
        t.manager = Some(BUILD.into());
        if t.key == "platform" {
            for (_, v) in &mut t.ops {
                if let Ok(p) = v.parse::<crate::formats::tags::Platform>() {
                    *v = p.to_string();
                }
            }
        }
    }
    check(&t)?;
    Ok(t)
}

fn check(t: &Term) -> Result<(), String> {
    if t.manager.as_deref() == Some(BUILD)
        && t.ops
            .iter()
            .any(|(op, _)| *op != Op::Prefix && *op != Op::Eq && *op != Op::Ne)
    {
        return Err(format!(
            "`{t}`: `{}` takes `=` or `!=` (e.g. `{}=...`)",
            t.name, t.name
        ));
    }
    Ok(())
}

/// `>=1.2,<2`, or a bare version when `bare` (meaning `=`).
fn ops(text: &str, word: &str, bare: bool) -> Result<Vec<(Op, String)>, String> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let (op, version) = if bare {
            (Op::Prefix, part)
        } else {
            let ops: &[(&str, Op)] = &[
                ("==", Op::Eq),
                ("!=", Op::Ne),
                (">=", Op::Ge),
                ("<=", Op::Le),
                (">", Op::Gt),
                ("<", Op::Lt),
                ("=", Op::Prefix),
            ];
            let sym: String = part.chars().take_while(|c| "=<>!~".contains(*c)).collect();
            let Some((sym, op)) = ops.iter().find(|(s, _)| *s == sym) else {
                return Err(format!(
                    "`{word}`: `{sym}` is not an operator; use =, ==, !=, >, >=, < or <= (e.g. `numpy>=1.26`)"
                ));
            };
            (*op, &part[sym.len()..])
        };
        if version.is_empty() {
            return Err(format!(
                "`{word}`: `{}` needs a version after it, e.g. `{}1.26`",
                op.text(),
                op.text()
            ));
        }
        if let Some(bad) = version.chars().find(|c| !version_char(*c)) {
            return Err(format!(
                "`{word}`: `{bad}` cannot be in a version (after `{}`)",
                op.text()
            ));
        }
        let star = version.find('*');
        if star.is_some_and(|i| i != version.len() - 1 || op != Op::Prefix) {
            return Err(format!(
                "`{word}`: `*` only ends a version after `=` (`=1.26.*`)"
            ));
        }
        let version = version.trim_end_matches('*').trim_end_matches('.');
        if version.is_empty() {
            return Err(format!(
                "`{word}`: `*` alone is any version: write the name alone"
            ));
        }
        out.push((op, version.to_string()));
    }
    Ok(out)
}

impl Term {
    /// Whether a version of the package, of a manager, satisfies every
    /// operator of the term.
    pub fn accepts(&self, manager: &str, version: &str) -> bool {
        if self.manager.as_deref().is_some_and(|m| m != manager) {
            return false;
        }
        let scheme = Scheme::of_manager(manager);
        self.ops.iter().all(|(op, want)| {
            use std::cmp::Ordering::*;
            if manager == BUILD {
                return (version == want) == (*op != Op::Ne);
            }
            let o = scheme.compare(version, want);
            match op {
                Op::Prefix => scheme.has_prefix(version, want),
                Op::Eq => o == Equal,
                Op::Ne => o != Equal,
                Op::Gt => o == Greater,
                Op::Ge => o != Less,
                Op::Lt => o == Less,
                Op::Le => o != Greater,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Result<Vec<Term>, String> {
        parse(&[q.to_string()], &[])
    }

    #[test]
    fn match_specs_read_as_conda_reads_them() {
        let t = &p("python=3.11").unwrap()[0];
        assert!(t.accepts("conda", "3.11.2"));
        assert!(t.accepts("tag", "3.11"));
        assert!(!t.accepts("conda", "3.12.0"));
        assert!(!t.accepts("conda", "3.110"));
        let t = &p("python==3.11.2").unwrap()[0];
        assert!(t.accepts("conda", "3.11.2"));
        assert!(!t.accepts("conda", "3.11.20"));
        let t = &p("numpy>=1.24,<2").unwrap()[0];
        assert!(t.accepts("pip", "1.26.4"));
        assert!(!t.accepts("pip", "2.0.0"));
        assert!(!t.accepts("pip", "1.23.5"));
        let t = &p("apt:bash!=5.2.21-2ubuntu4").unwrap()[0];
        assert!(t.accepts("apt", "5.2.15-2"));
        assert!(!t.accepts("conda", "5.2.15"));
        let t = &p("r>=4.4").unwrap()[0];
        assert!(t.accepts("tag", "4.4.3") && !t.accepts("tag", "4.3.3"));
    }

    #[test]
    fn a_bare_version_follows_its_name() {
        let ts = p("numpy 1.26 python=3.11").unwrap();
        assert_eq!(ts.len(), 2);
        assert_eq!(ts[0].to_string(), "numpy=1.26");
        assert!(p("1.26").unwrap_err().contains("needs a package before it"));
    }

    #[test]
    fn build_fields_are_exact() {
        let t = &p("image=r-notebook").unwrap()[0];
        assert_eq!(t.manager.as_deref(), Some(BUILD));
        assert!(t.accepts(BUILD, "r-notebook"));
        assert!(!t.accepts(BUILD, "r-notebook-2"));
        let t = &p("platform=arm64").unwrap()[0];
        assert!(t.accepts(BUILD, "aarch64"));
        assert!(p("image>=a").unwrap_err().contains("takes `=`"));
    }

    #[test]
    fn bad_constraints_say_what_is_wrong() {
        let e = |q: &str| p(q).unwrap_err();
        assert!(e("numpy==").contains("needs a version"), "{}", e("numpy=="));
        assert!(
            e("python>>3").contains("`>>` is not an operator"),
            "{}",
            e("python>>3")
        );
        assert!(
            e("numpy,").contains("`,` cannot be in a package name"),
            "{}",
            e("numpy,")
        );
        assert!(
            e("foo:numpy").contains("no manager `foo`"),
            "{}",
            e("foo:numpy")
        );
        assert!(
            e("nu$mpy").contains("`$` cannot be in a package name"),
            "{}",
            e("nu$mpy")
        );
        assert!(e("=1.2").contains("no package name"));
        assert!(e("numpy=1.*.2").contains("`*` only ends"));
        assert!(
            e("numpy~=1.2").contains("not an operator"),
            "{}",
            e("numpy~=1.2")
        );
    }

    #[test]
    fn names_normalize() {
        assert_eq!(normalize("Jinja2"), "jinja2");
        assert_eq!(normalize("typing_extensions"), "typing-extensions");
        assert_eq!(normalize("data.table"), "data-table");
    }
}

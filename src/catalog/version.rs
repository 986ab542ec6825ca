//! Version order per ecosystem: Debian's (dpkg) for apt, PEP 440 for pip
//! and conda (conda's odd versions, `2023c` or `1.1.1w`, fall back to the
//! generic order), and a semver-like generic order for the rest.
//!
//! The search page applies the same three orders in JavaScript
//! (`search.js`); both are pinned by one table, `tests/data/version-order.tsv`,
//! which the unit tests here and the site test in chromium read. A crate on
//! the Rust side alone would let the two disagree at the edges.

use std::cmp::Ordering;

/// Which rules order the versions of a manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Debian,
    Pep440,
    Generic,
}

impl Scheme {
    pub fn of_manager(manager: &str) -> Scheme {
        match manager {
            "apt" => Scheme::Debian,
            "pip" | "conda" => Scheme::Pep440,
            _ => Scheme::Generic,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Debian => "debian",
            Scheme::Pep440 => "pep440",
            Scheme::Generic => "generic",
        }
    }

    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Scheme::Debian => debian(a, b),
            Scheme::Pep440 => match (Pep440::parse(a), Pep440::parse(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => generic(a, b),
            },
            Scheme::Generic => generic(a, b),
        }
    }

    /// Whether `version` is `prefix` or starts with it at a component
    /// boundary: conda's `python=3.11` is `3.11.*`, so 3.11.2 and 3.11 match,
    /// 3.110 does not. A trailing `.*` on the prefix means the same.
    pub fn has_prefix(self, version: &str, prefix: &str) -> bool {
        let prefix = prefix.strip_suffix(".*").unwrap_or(prefix);
        if version == prefix {
            return true;
        }
        let version = match self {
            // An epoch the prefix does not name is not part of the match.
            Scheme::Debian if !prefix.contains(':') => {
                version.split_once(':').map_or(version, |(_, v)| v)
            }
            _ => version,
        };
        match version.strip_prefix(prefix) {
            Some(rest) => match (rest.chars().next(), prefix.chars().last()) {
                (None, _) => true,
                (Some(c), Some(p)) => {
                    !c.is_ascii_alphanumeric() || (c.is_ascii_digit() != p.is_ascii_digit())
                }
                (Some(_), None) => true,
            },
            None => false,
        }
    }
}

/// dpkg's `verrevcmp` on `[epoch:]upstream[-revision]`.
pub fn debian(a: &str, b: &str) -> Ordering {
    let split = |v: &str| -> (u64, String, String) {
        let (epoch, rest) = match v.split_once(':') {
            Some((e, r)) if e.chars().all(|c| c.is_ascii_digit()) && !e.is_empty() => {
                (e.parse().unwrap_or(u64::MAX), r)
            }
            _ => (0, v),
        };
        let (up, rev) = rest.rsplit_once('-').unwrap_or((rest, ""));
        (epoch, up.to_string(), rev.to_string())
    };
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| verrevcmp(&ua, &ub))
        .then_with(|| verrevcmp(&ra, &rb))
}

fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => c as i32,
        Some(c) => c as i32 + 256,
    }
}

fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let bc = order(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = a[i] as i32 - b[j] as i32;
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

/// One piece of a generic version: a number or a run of letters.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Num(&'a str),
    Alpha(&'a str),
}

fn pieces(v: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let bytes = v.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if bytes[i].is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Piece::Num(v[start..i].trim_start_matches('0')));
        } else if bytes[i].is_ascii_alphabetic() || bytes[i] == b'~' {
            while i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'~') {
                i += 1;
            }
            out.push(Piece::Alpha(&v[start..i]));
        } else {
            // Separators (`.`, `-`, `_`, `+`, ...) only separate; other
            // bytes of a multi-byte character are skipped whole.
            i += v[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

fn num_cmp(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Numbers compare as numbers, letters as text (case-insensitively, then
/// as written); a number is newer than letters at the same place, and
/// letters after the end (`1.0rc1`, `1.0-beta`) come before the end (`1.0`).
pub fn generic(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (pieces(a), pieces(b));
    let mut i = 0;
    loop {
        match (pa.get(i), pb.get(i)) {
            (None, None) => return Ordering::Equal,
            (Some(Piece::Num(_)), None) => return Ordering::Greater,
            (Some(Piece::Alpha(_)), None) => return Ordering::Less,
            (None, Some(Piece::Num(_))) => return Ordering::Less,
            (None, Some(Piece::Alpha(_))) => return Ordering::Greater,
            (Some(Piece::Num(x)), Some(Piece::Num(y))) => match num_cmp(x, y) {
                Ordering::Equal => {}
                o => return o,
            },
            (Some(Piece::Num(_)), Some(Piece::Alpha(_))) => return Ordering::Greater,
            (Some(Piece::Alpha(_)), Some(Piece::Num(_))) => return Ordering::Less,
            (Some(Piece::Alpha(x)), Some(Piece::Alpha(y))) => {
                match x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
        }
        i += 1;
    }
}

/// A PEP 440 version, normalized as `packaging` does; equal when
/// `packaging` says so (`1.26` and `1.26.0`).
#[derive(Debug, Clone)]
pub struct Pep440 {
    epoch: u64,
    release: Vec<u64>,
    /// (0 a, 1 b, 2 rc, number)
    pre: Option<(u8, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Vec<LocalPart>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LocalPart {
    // Letters sort before numbers in a local version.
    Text(String),
    Num(u64),
}

impl Pep440 {
    pub fn parse(text: &str) -> Option<Pep440> {
        let s = text.trim().to_ascii_lowercase();
        let s = s.strip_prefix('v').unwrap_or(&s);
        let (public, local) = match s.split_once('+') {
            Some((p, l)) => (p, Some(l)),
            None => (s, None),
        };
        let (epoch, rest) = match public.split_once('!') {
            Some((e, r)) => (e.parse().ok()?, r),
            None => (0, public),
        };
        let b = rest.as_bytes();
        let mut i = 0;
        let number = |i: &mut usize| -> Option<u64> {
            let start = *i;
            while *i < b.len() && b[*i].is_ascii_digit() {
                *i += 1;
            }
            if *i == start || *i - start > 18 {
                return None;
            }
            rest[start..*i].parse().ok()
        };
        let mut release = vec![number(&mut i)?];
        while i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
            i += 1;
            release.push(number(&mut i)?);
        }
        let sep = |i: &mut usize| {
            if *i < b.len() && matches!(b[*i], b'.' | b'-' | b'_') {
                *i += 1;
            }
        };
        let word = |i: &mut usize, words: &[&str]| -> Option<usize> {
            let found = words.iter().position(|w| rest[*i..].starts_with(w))?;
            *i += words[found].len();
            Some(found)
        };
        let opt_number = |i: &mut usize| -> Option<u64> {
            let mut j = *i;
            if j < b.len() && matches!(b[j], b'.' | b'-' | b'_') {
                j += 1;
            }
            if j < b.len() && b[j].is_ascii_digit() {
                *i = j;
                number(i)
            } else {
                Some(0)
            }
        };
        let mut v = Pep440 {
            epoch,
            release,
            pre: None,
            post: None,
            dev: None,
            local: Vec::new(),
        };
        // pre
        let mut j = i;
        sep(&mut j);
        const PRE: [&str; 7] = ["alpha", "beta", "preview", "pre", "rc", "a", "b"];
        if let Some(w) = word(&mut j, &PRE).or_else(|| {
            // `c` alone is rc, but not the `c` of a longer word.
            rest[j..].starts_with('c').then(|| {
                j += 1;
                7
            })
        }) {
            let kind = match w {
                0 | 5 => 0,
                1 | 6 => 1,
                _ => 2,
            };
            i = j;
            v.pre = Some((kind, opt_number(&mut i)?));
        }
        // post
        let mut j = i;
        if j < b.len() && b[j] == b'-' && j + 1 < b.len() && b[j + 1].is_ascii_digit() {
            j += 1;
            v.post = Some(number(&mut j)?);
            i = j;
        } else {
            sep(&mut j);
            if word(&mut j, &["post", "rev", "r"]).is_some() {
                i = j;
                v.post = Some(opt_number(&mut i)?);
            }
        }
        // dev
        let mut j = i;
        sep(&mut j);
        if word(&mut j, &["dev"]).is_some() {
            i = j;
            v.dev = Some(opt_number(&mut i)?);
        }
        if i != b.len() {
            return None;
        }
        if let Some(l) = local {
            for part in l.split(['.', '-', '_']) {
                if part.is_empty() || !part.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return None;
                }
                v.local.push(match part.parse() {
                    Ok(n) if part.chars().all(|c| c.is_ascii_digit()) => LocalPart::Num(n),
                    _ => LocalPart::Text(part.to_string()),
                });
            }
        }
        Some(v)
    }

    /// `packaging`'s sort key, as a tuple of comparable parts.
    fn key(&self) -> Key<'_> {
        let mut release = self.release.clone();
        while release.len() > 1 && release.last() == Some(&0) {
            release.pop();
        }
        // A dev release of a final version comes before its pre-releases.
        let pre = match (self.pre, self.post, self.dev) {
            (None, None, Some(_)) => (-1, 0, 0),
            (None, _, _) => (1, 0, 0),
            (Some((k, n)), _, _) => (0, k, n),
        };
        let post = self.post.map_or((-1, 0), |n| (0, n));
        let dev = self.dev.map_or((1, 0), |n| (0, n));
        (self.epoch, release, pre, post, dev, &self.local)
    }
}

/// Epoch, release, pre, post, dev, local.
type Key<'a> = (
    u64,
    Vec<u64>,
    (i8, u8, u64),
    (i8, u64),
    (i8, u64),
    &'a [LocalPart],
);

impl Ord for Pep440 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialEq for Pep440 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440 {}

impl PartialOrd for Pep440 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(name: &str) -> Scheme {
        match name {
            "debian" => Scheme::Debian,
            "pep440" => Scheme::Pep440,
            "generic" => Scheme::Generic,
            other => panic!("unknown scheme {other}"),
        }
    }

    /// The table the search page's JavaScript is checked against too.
    #[test]
    fn the_shared_table_holds() {
        let table = include_str!("../../tests/data/version-order.tsv");
        let mut n = 0;
        for line in table
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let f: Vec<&str> = line.split('\t').collect();
            let (s, a, op, b) = (scheme(f[0]), f[1], f[2], f[3]);
            let want = match op {
                "<" => Ordering::Less,
                "=" => Ordering::Equal,
                ">" => Ordering::Greater,
                other => panic!("bad op {other}"),
            };
            assert_eq!(s.compare(a, b), want, "{line}");
            assert_eq!(s.compare(b, a), want.reverse(), "{line} (swapped)");
            n += 1;
        }
        assert!(n > 40, "only {n} cases");
    }

    /// Every Debian case against the real `dpkg --compare-versions`.
    #[test]
    fn debian_order_agrees_with_dpkg() {
        let table = include_str!("../../tests/data/version-order.tsv");
        let Ok(_) = std::process::Command::new("dpkg").arg("--version").output() else {
            panic!("dpkg is needed for this test (Debian hosts have it)");
        };
        for line in table.lines().filter(|l| l.starts_with("debian\t")) {
            let f: Vec<&str> = line.split('\t').collect();
            let op = match f[2] {
                "<" => "lt",
                "=" => "eq",
                _ => "gt",
            };
            let ok = std::process::Command::new("dpkg")
                .args(["--compare-versions", f[1], op, f[3]])
                .status()
                .unwrap()
                .success();
            assert!(ok, "dpkg disagrees: {line}");
        }
    }

    #[test]
    fn prefixes_stop_at_component_boundaries() {
        let g = Scheme::Generic;
        assert!(g.has_prefix("3.11.2", "3.11"));
        assert!(g.has_prefix("3.11", "3.11"));
        assert!(g.has_prefix("3.11.2", "3.11.*"));
        assert!(!g.has_prefix("3.110", "3.11"));
        assert!(Scheme::Pep440.has_prefix("1.26.0rc1", "1.26.0"));
        assert!(Scheme::Debian.has_prefix("5.2.21-2ubuntu4", "5.2"));
        assert!(Scheme::Debian.has_prefix("1:2.39.2-1", "2.39"));
        assert!(!Scheme::Debian.has_prefix("1:2.39.2-1", "1:3"));
    }

    #[test]
    fn pep440_parses_and_refuses() {
        assert!(Pep440::parse("1.26.4").is_some());
        assert!(Pep440::parse("2!1.0.post1.dev3+ubuntu.1").is_some());
        assert!(Pep440::parse("1.0.foo").is_none());
        assert!(Pep440::parse("1.1.1w").is_none());
        assert!(Pep440::parse("").is_none());
    }
}

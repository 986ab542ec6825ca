//! The import graph of the crate's source files: which file names which
//! (`use` trees and inline paths through `crate::`, `super::`, `self::` or
//! a child module), test code left out. Read by `make deps` (which prints
//! it) and by the layering test (which fails on a wrong import).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files (relative to the crate root, `src/...`) and, per file, the files it imports.
pub struct Graph {
    pub files: Vec<String>,
    pub imports: Vec<BTreeSet<usize>>,
}

impl Graph {
    /// Every `.rs` file under `root/src` but `tests.rs` files and `#[cfg(test)]` items.
    pub fn load(root: &Path) -> Graph {
        let mut paths = Vec::new();
        walk(&root.join("src"), &mut paths);
        paths.sort();
        let files: Vec<String> = paths
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .filter(|f| !f.ends_with("/tests.rs"))
            .collect();
        let modules: BTreeMap<Vec<String>, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (module_of(f), i))
            .collect();
        let imports = files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(root.join(f)).unwrap();
                let code = without_tests(&strip(&text));
                let here = module_of(f);
                let is_dir_module = f.ends_with("/mod.rs") || f == "src/lib.rs";
                let mut out = BTreeSet::new();
                for path in paths_in(&code) {
                    if let Some(target) = resolve(&path, &here, is_dir_module, f, &modules) {
                        if files[target] != *f {
                            out.insert(target);
                        }
                    }
                }
                out
            })
            .collect();
        Graph { files, imports }
    }

    /// The top-level module a file belongs to: `hook` for `src/hook/guard.rs`,
    /// `error` for `src/error.rs`.
    pub fn unit(&self, file: usize) -> String {
        let m = module_of(&self.files[file]);
        match m.first() {
            Some(first) => first.clone(),
            None if self.files[file] == "src/main.rs" => "main".into(),
            None => "lib".into(),
        }
    }

    /// Strongly connected components of more than one file: the import circles.
    pub fn circles(&self) -> Vec<Vec<usize>> {
        let n = self.files.len();
        let (mut index, mut low) = (vec![usize::MAX; n], vec![0; n]);
        let (mut on_stack, mut stack, mut next, mut out) = (vec![false; n], vec![], 0, vec![]);
        // Tarjan's algorithm, iterative: (node, its imports not yet visited).
        for start in 0..n {
            if index[start] != usize::MAX {
                continue;
            }
            let mut work: Vec<(usize, Vec<usize>)> = Vec::new();
            index[start] = next;
            low[start] = next;
            next += 1;
            stack.push(start);
            on_stack[start] = true;
            work.push((start, self.imports[start].iter().copied().collect()));
            while let Some((v, todo)) = work.last_mut() {
                let v = *v;
                if let Some(w) = todo.pop() {
                    if index[w] == usize::MAX {
                        index[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, self.imports[w].iter().copied().collect()));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some((parent, _)) = work.last() {
                    low[*parent] = low[*parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut scc = Vec::new();
                    loop {
                        let w = stack.pop().unwrap();
                        on_stack[w] = false;
                        scc.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if scc.len() > 1 {
                        scc.sort();
                        out.push(scc);
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// The circles whose files are in more than one top-level module.
    pub fn wide_circles(&self) -> Vec<Vec<usize>> {
        self.circles()
            .into_iter()
            .filter(|c| {
                c.iter()
                    .map(|f| self.unit(*f))
                    .collect::<BTreeSet<_>>()
                    .len()
                    > 1
            })
            .collect()
    }

    /// Unit-level edges with how many file imports make each.
    pub fn units(&self) -> BTreeMap<String, BTreeMap<String, usize>> {
        let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for (i, targets) in self.imports.iter().enumerate() {
            let from = self.unit(i);
            let entry = out.entry(from.clone()).or_default();
            for t in targets {
                let to = self.unit(*t);
                if to != from {
                    *entry.entry(to).or_default() += 1;
                }
            }
        }
        out
    }

    /// Imports from the ground floor (formats/, console, file) to anything
    /// above it, and from the library into the CLI, as `from -> to` lines.
    pub fn wrong_way(&self) -> Vec<String> {
        let ground = |u: &str| GROUND.contains(&u);
        let mut out = Vec::new();
        for (i, targets) in self.imports.iter().enumerate() {
            let from = self.unit(i);
            for t in targets {
                let to = self.unit(*t);
                let up = ground(&from) && !ground(&to);
                let into_cli = to == "cli" && !matches!(from.as_str(), "cli" | "main");
                if up || into_cli {
                    out.push(format!("{} -> {}", self.files[i], self.files[*t]));
                }
            }
        }
        out
    }

    /// Source files (outside `allowed`) that print with a macro of std
    /// instead of going through the console.
    pub fn printing(root: &Path, allowed: &[&str]) -> Vec<String> {
        let mut paths = Vec::new();
        walk(&root.join("src"), &mut paths);
        paths.sort();
        let mut out = Vec::new();
        for p in paths {
            let file = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if allowed.contains(&file.as_str()) {
                continue;
            }
            let code = strip(&std::fs::read_to_string(&p).unwrap());
            for (n, line) in code.lines().enumerate() {
                for mac in ["eprintln!", "eprint!", "println!", "print!", "dbg!"] {
                    let hit = line.match_indices(mac).any(|(i, _)| {
                        !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    });
                    if hit {
                        out.push(format!("{file}:{}: {mac}", n + 1));
                    }
                }
            }
        }
        out
    }
}

/// The modules that import no other module of the crate.
pub const GROUND: &[&str] = &["formats", "console", "file"];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/hook/guard.rs` is `[hook, guard]`; `src/hook/mod.rs` is `[hook]`.
fn module_of(file: &str) -> Vec<String> {
    let rel = file.strip_prefix("src/").unwrap_or(file);
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code without comments and without the contents of string and char literals.
pub fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && c.get(i + 1).copied() == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1).copied() == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1).copied() == Some('*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1).copied() == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (c.get(i + 1).copied() == Some('"')
                || (c.get(i + 1).copied() == Some('#')
                    && matches!(c.get(i + 2).copied(), Some('"' | '#'))))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
        {
            let mut hashes = 0;
            i += 1;
            while c.get(i) == Some(&'#') {
                hashes += 1;
                i += 1;
            }
            i += 1;
            while i < c.len() {
                if c[i] == '"' && (0..hashes).all(|k| c.get(i + 1 + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c[i] == '\''
            && (c.get(i + 2).copied() == Some('\'') || c.get(i + 1).copied() == Some('\\'))
        {
            i += 1;
            while i < c.len() && c[i] != '\'' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// The code less every item under `#[cfg(test)]`.
fn without_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, ch) in item.char_indices().skip("#[cfg(test)]".len()) {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Every path of the code: `use` trees expanded, and inline `a::b::c`.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    let mut plain = String::new();
    while let Some(at) = find_use(rest) {
        plain.push_str(&rest[..at]);
        let tree_start = at + 4;
        let end = rest[tree_start..]
            .find(';')
            .map_or(rest.len(), |e| tree_start + e);
        expand(&rest[tree_start..end], Vec::new(), &mut out);
        rest = &rest[(end + 1).min(rest.len())..];
    }
    plain.push_str(rest);
    let chars: Vec<char> = plain.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let word_start = i == 0
            || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == ':');
        if word_start && (chars[i].is_alphabetic() || chars[i] == '_') {
            let mut segs = Vec::new();
            let mut j = i;
            loop {
                let s = j;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                segs.push(chars[s..j].iter().collect::<String>());
                if chars.get(j) == Some(&':')
                    && chars.get(j + 1) == Some(&':')
                    && chars
                        .get(j + 2)
                        .is_some_and(|c| c.is_alphabetic() || *c == '_')
                {
                    j += 2;
                } else {
                    break;
                }
            }
            if segs.len() > 1 {
                out.push(segs);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The byte offset of the next `use` keyword that starts an item.
fn find_use(code: &str) -> Option<usize> {
    let b = code.as_bytes();
    let mut from = 0;
    while let Some(k) = code[from..].find("use ") {
        let at = from + k;
        let before = if at == 0 { b' ' } else { b[at - 1] };
        if !(before.is_ascii_alphanumeric() || before == b'_') {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// `a::{b, c::{d, self}}` into `a::b`, `a::c::d`, `a::c`.
fn expand(tree: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let mut base = prefix.clone();
        base.extend(head);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (i, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], base.clone(), out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], base, out);
        return;
    }
    let tree = tree.split(" as ").next().unwrap_or(tree).trim();
    if tree.is_empty() {
        return;
    }
    let mut segs = prefix;
    for s in tree.split("::").map(str::trim) {
        if s == "self" && !segs.is_empty() {
            continue;
        }
        if s != "*" {
            segs.push(s.to_string());
        }
    }
    out.push(segs);
}

/// The file a path names: the longest known module prefix of its absolute form.
fn resolve(
    path: &[String],
    here: &[String],
    is_dir_module: bool,
    file: &str,
    modules: &BTreeMap<Vec<String>, usize>,
) -> Option<usize> {
    let mut abs: Vec<String>;
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            abs = Vec::new();
            rest = &path[1..];
        }
        Some("stacktag") if file == "src/main.rs" => {
            abs = Vec::new();
            rest = &path[1..];
        }
        Some("self") => {
            abs = self_module(here, is_dir_module);
            rest = &path[1..];
        }
        Some("super") => {
            abs = self_module(here, is_dir_module);
            while rest.first().map(String::as_str) == Some("super") {
                abs.pop();
                rest = &rest[1..];
            }
        }
        Some(first) => {
            // A child module of this one (`use parse::x` in a mod.rs).
            let mut child = self_module(here, is_dir_module);
            child.push(first.to_string());
            if !modules.contains_key(&child) {
                return None;
            }
            abs = self_module(here, is_dir_module);
        }
        None => return None,
    }
    abs.extend(rest.iter().cloned());
    (1..=abs.len())
        .rev()
        .find_map(|n| modules.get(&abs[..n]).copied())
}

/// The module whose children a file's relative paths name.
fn self_module(here: &[String], _is_dir_module: bool) -> Vec<String> {
    here.to_vec()
}

//! The house's rules, read from the source: no import circle wider than one
//! folder, the ground floor imports nothing above it, the library never
//! imports the CLI, and only the console prints. `make deps` prints the graph.

use std::path::Path;

#[allow(dead_code)] // `units` is for `make deps`
#[path = "../layers/graph.rs"]
mod graph;

use graph::Graph;

fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn names(g: &Graph, files: &[usize]) -> String {
    files
        .iter()
        .map(|f| g.files[*f].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn no_import_circle_is_wider_than_one_folder() {
    let g = Graph::load(crate_root());
    assert!(g.files.len() > 100, "read {} files", g.files.len());
    let wide: Vec<String> = g.wide_circles().iter().map(|c| names(&g, c)).collect();
    assert!(
        wide.is_empty(),
        "circles across folders (run `make deps`):\n{}",
        wide.join("\n")
    );
}

#[test]
fn imports_go_down_the_layers() {
    let g = Graph::load(crate_root());
    let wrong = g.wrong_way();
    assert!(
        wrong.is_empty(),
        "imports the wrong way (run `make deps`):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn only_the_console_prints() {
    let found = Graph::printing(crate_root(), &["src/console.rs"]);
    assert!(
        found.is_empty(),
        "print through crate::console (or the CLI's Ui), which neither panics on a closed pipe nor ignores --quiet:\n{}",
        found.join("\n")
    );
}

/// The checks above on a crate made to break each rule: they must fail.
#[test]
fn the_checks_catch_what_they_are_for() {
    let dir = tempfile::tempdir().unwrap();
    let write = |file: &str, text: &str| {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "src/lib.rs",
        "pub mod cli;\npub mod formats;\npub mod hook;\npub mod wiki;\n",
    );
    // The ground floor importing a floor above, in a `use` group.
    write(
        "src/formats/mod.rs",
        "use crate::{hook::run::{Info, self}};\n// use crate::wiki; (a comment)\n",
    );
    write("src/hook/mod.rs", "pub mod run;\n");
    // hook and wiki import each other: a circle across two folders.
    write(
        "src/hook/run.rs",
        "pub struct Info;\nfn f() { crate::wiki::page(); }\n",
    );
    write("src/wiki/mod.rs", "use super::hook::run::Info;\npub fn page() { let s = \"crate::cli\"; eprintln!(\"{s}\"); }\n");
    write("src/cli/mod.rs", "");
    let g = Graph::load(dir.path());
    assert_eq!(
        g.wrong_way(),
        ["src/formats/mod.rs -> src/hook/run.rs"],
        "strings and comments name nothing"
    );
    let wide: Vec<String> = g.wide_circles().iter().map(|c| names(&g, c)).collect();
    assert_eq!(wide, ["src/hook/run.rs src/wiki/mod.rs"]);
    assert_eq!(
        Graph::printing(dir.path(), &[]),
        ["src/wiki/mod.rs:2: eprintln!"]
    );
}

/// Adding a command is its arm in the `commands!` list of src/cli/mod.rs
/// and its own file: every arm names an `Args` type whose `Run` is in the
/// file of its module, and nothing else in src/cli names a command's variant
/// (no `match` on commands to extend; the help goldens are blessed).
#[test]
fn a_command_is_its_enum_arm_and_its_own_file() {
    let cli = crate_root().join("src/cli");
    let module = std::fs::read_to_string(cli.join("mod.rs")).unwrap();
    let list = module
        .split("commands! {")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .expect("src/cli/mod.rs declares its commands with `commands! { ... }`");
    let arm = regex::Regex::new(r"(?m)^    ([A-Z]\w*)\((\w+)::(\w+)\),$").unwrap();
    let arms: Vec<(String, String, String)> = arm
        .captures_iter(list)
        .map(|c| (c[1].to_string(), c[2].to_string(), c[3].to_string()))
        .collect();
    assert!(arms.len() >= 20, "{arms:?}");
    // Every file under src/cli (json/ is a folder of its own), by its path there.
    let mut sources: Vec<(String, String)> = Vec::new();
    let mut dirs = vec![cli.clone()];
    while let Some(dir) = dirs.pop() {
        for p in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
            if p.is_dir() {
                dirs.push(p);
            } else {
                let name = p.strip_prefix(&cli).unwrap().to_string_lossy().into_owned();
                sources.push((name, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    for (variant, file, args) in &arms {
        let own = &sources
            .iter()
            .find(|(n, _)| *n == format!("{file}.rs"))
            .unwrap_or_else(|| panic!("{variant}: no src/cli/{file}.rs"))
            .1;
        let run = regex::Regex::new(&format!(r"impl (super::)?Run for {args} \{{")).unwrap();
        assert!(
            run.is_match(own),
            "{variant}: `impl Run for {args}` is not in src/cli/{file}.rs"
        );
        let named = format!("Command::{variant}");
        let naming = regex::Regex::new(&format!(r"\b{named}\b")).unwrap();
        for (n, text) in &sources {
            assert!(
                !naming.is_match(text),
                "src/cli/{n} names `{named}`: a command is its arm and its own file"
            );
        }
    }
}

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

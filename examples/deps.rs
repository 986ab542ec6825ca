//! `make deps`: the import graph of src/, module by module, and its import
//! circles. A circle must stay inside one folder; the layering test
//! (tests/integration/layers.rs) fails otherwise.

#[path = "../tests/layers/graph.rs"]
mod graph;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let g = graph::Graph::load(root);
    let imports: usize = g.imports.iter().map(|i| i.len()).sum();
    println!(
        "src/: {} files, {imports} imports between them (test code left out)\n",
        g.files.len()
    );
    println!("module -> the modules it imports (how many file-to-file imports)");
    for (from, to) in g.units() {
        let list: Vec<String> = to.iter().map(|(m, n)| format!("{m} ({n})")).collect();
        println!("  {from:<10} -> {}", list.join(", "));
    }
    println!("\nimport circles (files that reach each other), by folder:");
    for c in g.circles() {
        let folder = g.unit(c[0]);
        let files: Vec<&str> = c.iter().map(|f| g.files[*f].as_str()).collect();
        println!("  {folder}: {} files: {}", c.len(), files.join(" "));
    }
    let wide = g.wide_circles();
    println!("\ncircles wider than one folder: {}", wide.len());
    for c in &wide {
        let files: Vec<&str> = c.iter().map(|f| g.files[*f].as_str()).collect();
        println!("  {}", files.join(" "));
    }
    let wrong = g.wrong_way();
    println!(
        "imports up from the ground floor ({}) or into the CLI: {}",
        graph::GROUND.join(", "),
        wrong.len()
    );
    for w in &wrong {
        println!("  {w}");
    }
    let printing = graph::Graph::printing(root, &["src/console.rs"]);
    println!("print macros outside src/console.rs: {}", printing.len());
    for p in &printing {
        println!("  {p}");
    }
}

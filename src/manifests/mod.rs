//! Built-in manifest sections. Those that are "a heading and some commands'
//! output" are rows of one table, in the form a stack declares its own in
//! hierarchy.yaml; `python_packages` (a plain version line) is a file, and
//! the apt, pip and R sections (`packages`) read the image's one listing of
//! each package manager, which the SBOM reads too.
//! The Build Info header is not a section: every manifest starts with it.

pub mod build_info;
pub mod packages;
pub mod python_packages;

macro_rules! manifest_rows {
    ($( $name:literal, $about:literal, $heading:literal, [$([$($arg:literal),+]),+] $(, $stream:ident)?; )+) => {
        $(
            inventory::submit! {
                crate::plugin::ManifestEntry {
                    name: $name,
                    about: $about,
                    module: module_path!(),
                    manifest: &crate::plugin::rule::BuiltinManifest {
                        heading: $heading,
                        commands: &[$(&[$($arg),+]),+],
                        stream: crate::stream_or_stdout!($($stream)?),
                    },
                }
            }
        )+
    };
}

// name, about, heading, [[command]...][, stream]
manifest_rows! {
    "julia_packages", "`## Julia Packages`: `versioninfo()` and `Pkg.status()`.",
        "Julia Packages", [["julia", "-E", "using InteractiveUtils; versioninfo()"], ["julia", "-E", "import Pkg; Pkg.status()"]];
    "spark_info", "`## Apache Spark`: the `spark-submit --version` banner (Spark prints it on stderr).",
        "Apache Spark", [["/usr/local/spark/bin/spark-submit", "--version"]], Stderr;
}

//! Built-in manifest sections. Those that are "a heading and some commands'
//! output" are rows of one table, in the form a stack declares its own in
//! hierarchy.yaml; `python_packages` (a plain version line) is a file.
//! The Build Info header is not a section: every manifest starts with it.

pub mod build_info;
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
    "apt_packages", "`## Apt Packages`: `apt list --installed` (stdout only: apt's CLI warning is on stderr).",
        "Apt Packages", [["apt", "list", "--installed"]];
    "pip_packages", "`## Pip Packages`: `pip list`, for images without conda.",
        "Pip Packages", [["pip", "list"]];
    "r_packages", "`## R Packages`: `R --version` and the installed packages of the R library.",
        "R Packages", [["R", "--version"], ["R", "--silent", "-e", "installed.packages(.Library)[, c(1,3)]"]];
    "julia_packages", "`## Julia Packages`: `versioninfo()` and `Pkg.status()`.",
        "Julia Packages", [["julia", "-E", "using InteractiveUtils; versioninfo()"], ["julia", "-E", "import Pkg; Pkg.status()"]];
    "spark_info", "`## Apache Spark`: the `spark-submit --version` banner (Spark prints it on stderr).",
        "Apache Spark", [["/usr/local/spark/bin/spark-submit", "--version"]], Stderr;
}

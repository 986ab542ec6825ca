//! Built-in taggers. Those that are "run a command, take the version from
//! its output, prefix it" are rows of one table, in the same form a stack
//! declares its own in hierarchy.yaml (see [`crate::plugin::rule`]); the few with
//! logic are a file each. Every row is tested end to end on captured output
//! by `tests::every_built_in` below.

pub mod commit_sha;
pub mod date;
pub mod os_version;
pub mod tensorflow_version;

// name, about, [command], pattern (multi-line; `version` group), prefix[, stream]
crate::tagger_rows! {
    "python_version", "`python --version` gives `python-3.13.5`.",
        ["python", "--version"], r"^Python (?P<version>\d\S*)$", "python";
    "python_major_minor", "`python --version` gives `python-3.13`",
        ["python", "--version"], r"^Python (?P<version>\d+\.\d+)(?:\.\S*)?$", "python";
    "mamba_version", "`mamba --version` gives `mamba-2.3.0` (mamba 1.x printed `mamba X` first).",
        ["mamba", "--version"], r"\A(?:mamba )?(?P<version>\d\S*)$", "mamba";
    "conda_version", "`conda --version` gives `conda-25.5.1`.",
        ["conda", "--version"], r"^conda (?P<version>\d\S*)$", "conda";
    "notebook_version", "`jupyter-notebook --version` gives `notebook-7.4.4`.",
        ["jupyter-notebook", "--version"], r"^(?P<version>\d\S*)$", "notebook";
    "lab_version", "`jupyter-lab --version` gives `lab-4.4.4`.",
        ["jupyter-lab", "--version"], r"^(?P<version>\d\S*)$", "lab";
    "hub_version", "`jupyterhub --version` gives `hub-5.3.0`.",
        ["jupyterhub", "--version"], r"^(?P<version>\d\S*)$", "hub";
    "r_version", "`R --version` gives `r-4.4.3`.",
        ["R", "--version"], r"^R version (?P<version>\d\S*) ", "r";
    "julia_version", "`julia --version` gives `julia-1.11.5`.",
        ["julia", "--version"], r"^julia version (?P<version>\d\S*)$", "julia";
    "java_version", "`java --version` gives `java-17.0.15`.",
        ["java", "--version"], r"\A\S+ (?P<version>\d\S*)(?: \d{4}-\d\d-\d\d)?", "java";
    "pytorch_version", "`pip show torch` gives `pytorch-2.7.1` (the local part after `+` dropped).",
        ["pip", "show", "torch"], r"^Version: (?P<version>\d[^+\s]*)(?:\+\S*)?$", "pytorch";
    "spark_version", "`spark-submit --version` banner gives `spark-4.0.0`",
        ["spark-submit", "--version"], r"/___/.* version (?P<version>\d\S*)$", "spark", Stderr;
}

#[cfg(test)]
mod tests;

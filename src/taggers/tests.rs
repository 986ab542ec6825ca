//! Every built-in tagger and manifest, end to end through the fake runner
//! (canned outputs captured from real images, `tests/data/`; not a
//! container): the commands it runs, the full value with its prefix, and the
//! manifest text (golden files in `tests/golden/sections/`,
//! `STACKTAG_BLESS=1` rewrites them). A new built-in is a table row here.

use crate::plugin;
use crate::plugin::fake::{manifest, tag, FakeRunner};
use crate::plugin::PluginError;
use crate::sbom::collect;

fn data(file: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("tests/data/{file}: {e}"))
}

/// One canned command: argv, stdout (a `tests/data/` file when it ends in
/// `.txt` or `.json`; `apt:FILE` is the shared apt listing whose
/// `apt list` part is FILE), stderr (likewise), exit code.
type Canned = (&'static [&'static str], &'static str, &'static str, i64);

fn runner(canned: &[Canned]) -> FakeRunner {
    let text = |s: &str| {
        if let Some(file) = s.strip_prefix("apt:") {
            crate::sbom::listing::apt_output("", &data(file))
        } else if s.ends_with(".txt") || s.ends_with(".json") {
            data(s)
        } else {
            s.to_string()
        }
    };
    canned
        .iter()
        .fold(FakeRunner::default(), |r, (argv, out, err, code)| {
            r.with(argv, &text(out), &text(err), *code)
        })
}

const PY: &[&str] = &["python", "--version"];
const APT_WARNING: &str =
    "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n";

/// name, commands it may run with their captured output, expected value.
const TAGGERS: &[(&str, &[Canned], &str)] = &[
    ("commit_sha", &[], "1ffe43816ba9"),
    ("date", &[], "2026-11-22"),
    (
        "os_version",
        &[(&["cat", "/etc/os-release"], "os-release-ubuntu.txt", "", 0)],
        "ubuntu-24.04",
    ),
    (
        "python_version",
        &[(PY, "debian-python-version.txt", "", 0)],
        "python-3.11.2",
    ),
    (
        "python_major_minor",
        &[(PY, "debian-python-version.txt", "", 0)],
        "python-3.11",
    ),
    (
        "mamba_version",
        &[(&["mamba", "--version"], "mamba-version.txt", "", 0)],
        "mamba-2.1.1",
    ),
    (
        "conda_version",
        &[(&["conda", "--version"], "conda-version.txt", "", 0)],
        "conda-25.3.0",
    ),
    (
        "notebook_version",
        &[(
            &["jupyter-notebook", "--version"],
            "debian-notebook-version.txt",
            "",
            0,
        )],
        "notebook-6.4.12",
    ),
    (
        "lab_version",
        &[(
            &["jupyter-lab", "--version"],
            "jupyter-lab-version.txt",
            "",
            0,
        )],
        "lab-3.4.8",
    ),
    (
        "hub_version",
        &[(
            &["jupyterhub", "--version"],
            "debian-jupyterhub-version.txt",
            "",
            0,
        )],
        "hub-3.0.0",
    ),
    (
        "r_version",
        &[(&["R", "--version"], "r-version.txt", "", 0)],
        "r-4.4.3",
    ),
    (
        "julia_version",
        &[(&["julia", "--version"], "julia-version.txt", "", 0)],
        "julia-1.11.5",
    ),
    (
        "java_version",
        &[(&["java", "--version"], "debian-java-version.txt", "", 0)],
        "java-17.0.19",
    ),
    (
        "pytorch_version",
        &[(&["pip", "show", "torch"], "pip-show-torch.txt", "", 0)],
        "pytorch-2.7.0",
    ),
    (
        "spark_version",
        &[(
            &["spark-submit", "--version"],
            "",
            "spark-submit-version.txt",
            0,
        )],
        "spark-4.0.0",
    ),
    (
        "tensorflow_version",
        &[(
            &["pip", "show", "tensorflow"],
            "pip-show-tensorflow.txt",
            "",
            0,
        )],
        "tensorflow-2.18.0",
    ),
];

const MANIFESTS: &[(&str, &[Canned])] = &[
    (
        "apt_packages",
        &[(collect::APT, "apt:debian-apt-list.txt", APT_WARNING, 0)],
    ),
    (
        "pip_packages",
        &[(collect::PIP, "debian-pip-list.json", "", 0)],
    ),
    (
        "python_packages",
        &[
            (PY, "Python 3.13.5\n", "", 0),
            (&["conda", "info"], "conda-info.txt", "", 0),
            (&["mamba", "info"], "mamba-info.txt", "", 0),
            (&["mamba", "list"], "mamba-list.txt", "", 0),
        ],
    ),
    (
        "r_packages",
        &[
            (&["R", "--version"], "debian-r-version.txt", "", 0),
            (collect::R, "debian-r-inventory.txt", "", 0),
        ],
    ),
    (
        "julia_packages",
        &[
            (
                &["julia", "-E", "using InteractiveUtils; versioninfo()"],
                "julia-versioninfo.txt",
                "",
                0,
            ),
            (
                &["julia", "-E", "import Pkg; Pkg.status()"],
                "julia-pkg-status.txt",
                "",
                0,
            ),
        ],
    ),
    (
        "spark_info",
        &[(
            &["/usr/local/spark/bin/spark-submit", "--version"],
            "",
            "spark-submit-version.txt",
            0,
        )],
    ),
];

fn argvs(canned: &[Canned]) -> Vec<Vec<String>> {
    let mut v: Vec<Vec<String>> = canned
        .iter()
        .map(|(a, ..)| a.iter().map(|s| s.to_string()).collect())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_built_in_tagger() {
    for entry in plugin::taggers().filter(|t| t.builtin()) {
        let Some((_, canned, want)) = TAGGERS.iter().find(|(n, ..)| *n == entry.name) else {
            panic!("built-in tagger `{}` has no row in TAGGERS", entry.name)
        };
        let fake = runner(canned);
        let got = tag(entry.tagger, &fake).await;
        assert_eq!(got.as_deref().ok(), Some(*want), "{}: {got:?}", entry.name);
        let mut calls = fake.calls.lock().unwrap().clone();
        calls.sort();
        assert_eq!(calls, argvs(canned), "{}: commands run", entry.name);
    }
}

#[tokio::test]
async fn every_built_in_manifest() {
    for entry in plugin::manifests().filter(|m| m.builtin()) {
        let Some((_, canned)) = MANIFESTS.iter().find(|(n, _)| *n == entry.name) else {
            panic!("built-in manifest `{}` has no row in MANIFESTS", entry.name)
        };
        let fake = runner(canned);
        let md = manifest(entry.manifest, &fake).await.unwrap();
        let mut calls = fake.calls.lock().unwrap().clone();
        calls.sort();
        calls.dedup();
        assert_eq!(calls, argvs(canned), "{}: commands run", entry.name);
        assert!(
            !md.contains("WARNING: apt"),
            "stderr leaked into {}",
            entry.name
        );
        crate::golden::golden(&format!("sections/{}.md", entry.name), &md);
    }
}

/// Output that is not the whole version token is refused, not cut short.
#[tokio::test]
async fn extra_words_are_not_a_version() {
    for (name, argv, out) in [
        (
            "notebook_version",
            &["jupyter-notebook", "--version"][..],
            "6.4 beta\n",
        ),
        ("python_version", PY, "Python 3.13.5 (experimental)\n"),
        (
            "conda_version",
            &["conda", "--version"],
            "conda 25.3.0 extra\n",
        ),
    ] {
        let fake = FakeRunner::default().with(argv, out, "", 0);
        let e = tag(plugin::tagger(name).unwrap().tagger, &fake)
            .await
            .unwrap_err();
        assert!(matches!(e, PluginError::Parse { .. }), "{name}: {e}");
        assert!(e.to_string().contains(out.trim()), "{name}: {e}");
    }
}

#[tokio::test]
async fn stderr_never_becomes_a_tag() {
    let fake = FakeRunner::default().with(PY, "", "Python 3.13.5\n", 0);
    let e = tag(plugin::tagger("python_version").unwrap().tagger, &fake)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("gave empty output"), "{e}");
}

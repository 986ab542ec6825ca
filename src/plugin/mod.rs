//! The extension points: [`Tagger`] and [`Manifest`], registered with
//! `inventory` through [`tagger!`](crate::tagger) and
//! [`manifest!`](crate::manifest). Built-ins use the same path as a user's
//! plugin crate. Most taggers need no Rust: a command, a pattern and a prefix
//! declared in hierarchy.yaml ([`rule`]).
//!
//! A tagger of one's own, in a crate that depends on stacktag and whose
//! `main` is `stacktag::cli::main()`:
//!
//! ```
//! use stacktag::plugin::prelude::*;
//!
//! /// `node-18.20.4` from `node --version` (`v18.20.4`).
//! struct NodeVersion;
//!
//! #[async_trait]
//! impl Tagger for NodeVersion {
//!     async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
//!         // A version starts with a digit: strip the `v` in `pick`.
//!         ctx.versioned("node", &["node", "--version"], "`vX.Y.Z`", |out| {
//!             parse::word(out, 0).map(|v| v.trim_start_matches('v'))
//!         })
//!         .await
//!     }
//! }
//!
//! stacktag::tagger!("node_version", "`node --version` gives `node-18.20.4`", NodeVersion);
//! ```
//!
//! A manifest section is the same with [`Manifest`], [`Context::quoted`] and
//! [`manifest!`](crate::manifest).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use tokio::sync::OnceCell;

pub mod command;
pub mod error;
pub mod rule;
pub mod run;

pub use command::{Cmd, ExecError, Output, Ran};
pub use error::PluginError;
pub use run::{BuildInfo, ImageInfo};

use crate::formats::markdown;

/// Computes one tag value (without the platform prefix), e.g. `python-3.13.5`.
#[async_trait]
pub trait Tagger: Send + Sync + 'static {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError>;
}

/// Writes one section of the build manifest (an H2 heading and its pieces).
#[async_trait]
pub trait Manifest: Send + Sync + 'static {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError>;
}

pub struct TaggerEntry {
    /// The name hierarchy.yaml uses.
    pub name: &'static str,
    pub about: &'static str,
    pub tagger: &'static dyn Tagger,
    /// `module_path!()` where it was registered: tells built-ins from plugins.
    pub module: &'static str,
}

pub struct ManifestEntry {
    pub name: &'static str,
    pub about: &'static str,
    pub manifest: &'static dyn Manifest,
    pub module: &'static str,
}

impl TaggerEntry {
    /// Part of stacktag itself, not of a plugin crate.
    pub fn builtin(&self) -> bool {
        is_builtin(self.module)
    }
}

impl ManifestEntry {
    pub fn builtin(&self) -> bool {
        is_builtin(self.module)
    }
}

fn is_builtin(module: &str) -> bool {
    module == "stacktag" || module.starts_with("stacktag::")
}

inventory::collect!(TaggerEntry);
inventory::collect!(ManifestEntry);

/// Registers a tagger: `stacktag::tagger!("debian_version", "about", DebianVersion);`
#[macro_export]
macro_rules! tagger {
    ($name:literal, $about:literal, $value:expr) => {
        $crate::inventory::submit! {
            $crate::plugin::TaggerEntry { name: $name, about: $about, tagger: &$value, module: module_path!() }
        }
    };
}

/// Registers a manifest section, like [`tagger!`](crate::tagger).
#[macro_export]
macro_rules! manifest {
    ($name:literal, $about:literal, $value:expr) => {
        $crate::inventory::submit! {
            $crate::plugin::ManifestEntry { name: $name, about: $about, manifest: &$value, module: module_path!() }
        }
    };
}

pub fn taggers() -> impl Iterator<Item = &'static TaggerEntry> {
    inventory::iter::<TaggerEntry>.into_iter()
}

pub fn manifests() -> impl Iterator<Item = &'static ManifestEntry> {
    inventory::iter::<ManifestEntry>.into_iter()
}

pub fn tagger(name: &str) -> Option<&'static TaggerEntry> {
    taggers().find(|t| t.name == name)
}

pub fn manifest(name: &str) -> Option<&'static ManifestEntry> {
    manifests().find(|m| m.name == name)
}

/// Runs a command in the image under test. The real one is
/// [`crate::hook::container::Container`]; unit tests use a fake.
#[async_trait]
pub trait Runner: Send + Sync {
    /// Runs `cmd` to the end; any exit code is an `Ok`.
    async fn exec(&self, cmd: &Cmd) -> Result<Output, ExecError>;
}

type Slot = Arc<OnceCell<Result<Arc<Output>, ExecError>>>;

/// Each command runs once per image, however many plugins ask for it.
#[derive(Default)]
pub struct CommandCache {
    slots: Mutex<HashMap<Cmd, Slot>>,
    ran: Mutex<Vec<Ran>>,
}

impl CommandCache {
    async fn get(&self, runner: &dyn Runner, cmd: &Cmd) -> Result<Arc<Output>, ExecError> {
        let slot = self
            .slots
            .lock()
            .expect("poisoned")
            .entry(cmd.clone())
            .or_default()
            .clone();
        slot.get_or_init(|| async {
            let started = Instant::now();
            let result = runner.exec(cmd).await;
            self.ran.lock().expect("poisoned").push(Ran {
                command: cmd.clone(),
                exit_code: result.as_ref().ok().map(|o| o.exit_code),
                seconds: started.elapsed().as_secs_f64(),
                error: result.as_ref().err().map(ToString::to_string),
            });
            result.map(Arc::new)
        })
        .await
        .clone()
    }

    /// Every command that ran to an end (or was stopped), sorted by how it
    /// reads, so that reports list them in a stable order.
    pub fn ran(&self) -> Vec<Ran> {
        let mut ran = self.ran.lock().expect("poisoned").clone();
        ran.sort_by_cached_key(|r| r.command.to_string());
        ran
    }

    /// How many distinct commands ran.
    pub fn len(&self) -> usize {
        self.slots.lock().expect("poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a tagger or manifest sees: the image (`ctx.image`: name, platform,
/// variant, reference), the build (`ctx.build`: timestamp, commit), and the
/// running container, through a run-once cache: every distinct command runs
/// once per image, however many taggers and manifests ask for it, without a
/// shell, stdout and stderr kept apart.
pub struct Context<'a> {
    pub image: &'a ImageInfo,
    pub build: &'a BuildInfo,
    runner: &'a dyn Runner,
    cache: &'a CommandCache,
    /// The last command this plugin ran, to name in errors about its value.
    last: Mutex<Option<(Cmd, Arc<Output>)>>,
}

impl<'a> Context<'a> {
    pub fn new(
        image: &'a ImageInfo,
        build: &'a BuildInfo,
        runner: &'a dyn Runner,
        cache: &'a CommandCache,
    ) -> Self {
        Context {
            image,
            build,
            runner,
            cache,
            last: Mutex::new(None),
        }
    }

    /// Runs `argv` (no shell) and requires exit code 0.
    pub async fn run(&self, argv: &[&str]) -> Result<Arc<Output>, PluginError> {
        let cmd = Cmd::new(argv);
        let out = self.cache.get(self.runner, &cmd).await?;
        *self.last.lock().expect("poisoned") = Some((cmd.clone(), out.clone()));
        match out.exit_code {
            0 => Ok(out),
            126 | 127 => Err(ExecError::Missing {
                command: cmd.to_string(),
                code: out.exit_code,
                stderr: first_lines(&out.stderr, &out.stdout),
            }
            .into()),
            code => Err(ExecError::Failed {
                command: cmd.to_string(),
                code,
                stdout: out.stdout.clone(),
                stderr: first_lines(&out.stderr, &out.stdout),
            }
            .into()),
        }
    }

    /// Stdout of `argv`, trimmed; empty output is an error.
    pub async fn stdout(&self, argv: &[&str]) -> Result<String, PluginError> {
        let out = self.run(argv).await?;
        let text = out.stdout.trim();
        if text.is_empty() {
            return Err(ExecError::Empty {
                command: Cmd::new(argv).to_string(),
            }
            .into());
        }
        Ok(text.to_string())
    }

    /// The manifest piece for `argv`: `` `cmd`: `` and its stdout in a text block.
    pub async fn quoted(&self, argv: &[&str]) -> Result<String, PluginError> {
        self.quoted_stream(argv, false).await
    }

    /// Like [`Context::quoted`], showing stderr for programs that report there.
    pub async fn quoted_stream(&self, argv: &[&str], stderr: bool) -> Result<String, PluginError> {
        let out = self.run(argv).await?;
        let cmd = Cmd::new(argv).to_string();
        let text = markdown::clean_output(out.stream(stderr)).ok_or_else(|| ExecError::Empty {
            command: cmd.clone(),
        })?;
        Ok(markdown::quoted(&cmd, &text))
    }

    /// `{name}-{version}`, where `pick` finds the version in the stdout of
    /// `argv`; `expected` says what it looks for, for the error message.
    ///
    /// A version starts with a digit and holds only letters, digits, `.`,
    /// `+`, `-` and `_`: `pick` returning `v18.20.4` or `6.4 beta` is an error
    /// that says so (strip a leading `v` in `pick`); `pick` returning `None`
    /// is an error that shows the output and `expected`.
    pub async fn versioned(
        &self,
        name: &str,
        argv: &[&str],
        expected: &str,
        pick: fn(&str) -> Option<&str>,
    ) -> Result<String, PluginError> {
        let out = self.stdout(argv).await?;
        let v = match pick(&out) {
            Some(v) if parse::version(v).is_some() => v,
            Some(v) => {
                return Err(PluginError::Other(format!(
                    "`{}` gave `{v}`, which is not a version: a version starts with a digit and \
                     holds only letters, digits, `.`, `+`, `-` and `_` (no spaces)\n  \
                     fix: make the pick function return only the version, e.g. \
                     `.map(|v| v.trim_start_matches('v'))` for `v18.20.4`",
                    Cmd::new(argv)
                )))
            }
            None => return Err(self.parse_error(argv, &out, expected)),
        };
        // `6.4 beta` must not become `notebook-6.4`: a tag is the whole version.
        if let Some((line, extra)) = parse::more_than_version(&out, v) {
            return Err(PluginError::MoreThanVersion {
                command: Cmd::new(argv).to_string(),
                line: line.to_string(),
                extra: extra.to_string(),
                output: out.clone(),
            });
        }
        Ok(format!("{name}-{v}"))
    }

    /// An error for output that lacks what the plugin looks for.
    pub fn parse_error(&self, argv: &[&str], output: &str, expected: &str) -> PluginError {
        PluginError::Parse {
            command: Cmd::new(argv).to_string(),
            expected: expected.to_string(),
            output: output.to_string(),
        }
    }

    /// The last command this plugin ran and its stdout, for error messages.
    pub fn last_command(&self) -> Option<(String, String)> {
        self.last
            .lock()
            .expect("poisoned")
            .as_ref()
            .map(|(c, o)| (c.to_string(), o.stdout.clone()))
    }
}

fn first_lines(stderr: &str, stdout: &str) -> String {
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    let lines: Vec<&str> = text.trim().lines().take(20).collect();
    lines.join("\n")
}

/// What a tagger or manifest file needs in scope.
pub mod prelude {
    pub use super::{parse, Context, Manifest, Tagger};
    pub use crate::plugin::rule::Stream;
    pub use crate::plugin::PluginError;
    pub use async_trait::async_trait;
}

/// Small parsers for command output, shared by taggers (and plugin crates).
pub mod parse {
    /// The first line that starts with `prefix`, with the prefix removed and trimmed.
    pub fn line_after<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
        text.lines()
            .find_map(|l| l.trim_start().strip_prefix(prefix))
            .map(str::trim)
    }

    /// Word `n` (0-based) of the first line that has one.
    pub fn word(text: &str, n: usize) -> Option<&str> {
        text.lines()
            .find(|l| !l.trim().is_empty())?
            .split_whitespace()
            .nth(n)
    }

    /// When `version` (a slice of `text`, as a pick returns it) starts its
    /// line, that line and what follows the version on it, if anything does.
    /// A line that starts with the version is a bare version line and may
    /// hold nothing else (`6.4 beta`); after a label (`Python 3.13.5`,
    /// `R version 4.4.3 (2025-02-28)`) the label's rule says where it ends.
    pub fn more_than_version<'t>(text: &'t str, version: &str) -> Option<(&'t str, &'t str)> {
        let start = (version.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
        let end = start + version.len();
        if end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            return None;
        }
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
        let before = &text[line_start..start];
        let after = text[end..line_end].trim();
        (before.trim().is_empty() && !after.is_empty())
            .then(|| (text[line_start..line_end].trim(), after))
    }

    /// `s` if it looks like a version: starts with a digit, only digits,
    /// letters, `.`, `+`, `-` and `_`.
    pub fn version(s: &str) -> Option<&str> {
        let ok = s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+-_".contains(c));
        ok.then_some(s)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn helpers() {
            assert_eq!(
                line_after("Name: x\nVersion: 2.7.1+cpu\n", "Version:"),
                Some("2.7.1+cpu")
            );
            assert_eq!(word("\nR version 4.2.2 (2022-10-31)", 2), Some("4.2.2"));
            assert_eq!(version("4.2.2"), Some("4.2.2"));
            assert_eq!(version("v4"), None);
            assert_eq!(version("4 2"), None);
        }

        #[test]
        fn a_bare_version_line_holds_nothing_else() {
            let text = "6.4 beta\n";
            assert_eq!(
                more_than_version(text, word(text, 0).unwrap()),
                Some(("6.4 beta", "beta"))
            );
            let text = "  7.4.4  \nnext line\n";
            assert_eq!(more_than_version(text, word(text, 0).unwrap()), None);
            // After a label, the label's rule decides.
            let text = "R version 4.4.3 (2025-02-28) -- \"Trophy Case\"";
            let v = word(line_after(text, "R version ").unwrap(), 0).unwrap();
            assert_eq!(more_than_version(text, v), None);
            // Not a slice of the text: nothing to say.
            assert_eq!(more_than_version(text, "4.4.3"), None);
        }
    }
}

/// A fake [`Runner`] for unit tests: answers from a table of canned outputs.
/// Not a Docker container; integration tests use the real daemon.
#[cfg(test)]
pub mod fake {
    use super::*;

    #[derive(Default)]
    pub struct FakeRunner {
        pub answers: HashMap<Vec<String>, Output>,
        pub calls: Mutex<Vec<Vec<String>>>,
    }

    impl FakeRunner {
        pub fn with(mut self, argv: &[&str], stdout: &str, stderr: &str, exit_code: i64) -> Self {
            self.answers.insert(
                argv.iter().map(|s| s.to_string()).collect(),
                Output {
                    stdout: stdout.into(),
                    stderr: stderr.into(),
                    exit_code,
                },
            );
            self
        }
    }

    #[async_trait]
    impl Runner for FakeRunner {
        async fn exec(&self, cmd: &Cmd) -> Result<Output, ExecError> {
            self.calls.lock().unwrap().push(cmd.0.clone());
            Ok(self.answers.get(&cmd.0).cloned().unwrap_or(Output {
                stdout: String::new(),
                stderr: format!("exec: \"{}\": executable file not found in $PATH", cmd.0[0]),
                exit_code: 127,
            }))
        }
    }

    /// Runs one tagger against canned outputs.
    pub async fn tag(tagger: &dyn Tagger, runner: &FakeRunner) -> Result<String, PluginError> {
        let (image, build) = (ImageInfo::example(), BuildInfo::example());
        let cache = CommandCache::default();
        let ctx = Context::new(&image, &build, runner, &cache);
        tagger.tag_value(&ctx).await
    }

    /// Runs one manifest against canned outputs.
    pub async fn manifest(m: &dyn Manifest, runner: &FakeRunner) -> Result<String, PluginError> {
        let (image, build) = (ImageInfo::example(), BuildInfo::example());
        let cache = CommandCache::default();
        let ctx = Context::new(&image, &build, runner, &cache);
        m.markdown(&ctx).await
    }

    #[tokio::test]
    async fn a_command_asked_twice_runs_once() {
        let runner = FakeRunner::default().with(&["python", "--version"], "Python 3.11.2\n", "", 0);
        let (image, build) = (ImageInfo::example(), BuildInfo::example());
        let cache = CommandCache::default();
        let ctx = Context::new(&image, &build, &runner, &cache);
        let (a, b) = tokio::join!(
            ctx.stdout(&["python", "--version"]),
            ctx.stdout(&["python", "--version"])
        );
        assert_eq!(a.unwrap(), b.unwrap());
        assert_eq!(runner.calls.lock().unwrap().len(), 1);
    }

    /// `versioned` with each built-in pick rule, on output captured from
    /// real images, and on a version line with a word after it.
    #[tokio::test]
    async fn versioned_takes_the_whole_version_or_refuses() {
        async fn run(out: &str, pick: fn(&str) -> Option<&str>) -> Result<String, PluginError> {
            let runner = FakeRunner::default().with(&["v"], out, "", 0);
            let (image, build) = (ImageInfo::example(), BuildInfo::example());
            let cache = CommandCache::default();
            let ctx = Context::new(&image, &build, &runner, &cache);
            ctx.versioned("x", &["v"], "a version", pick).await
        }
        let data = |name: &str| std::fs::read_to_string(format!("tests/data/{name}")).unwrap();
        // The rules of the built-ins, as parse helpers (not the tagger files:
        // this tests the shared helper).
        type Pick = fn(&str) -> Option<&str>;
        let real: [(&str, Pick, &str); 6] = [
            (
                "debian-notebook-version.txt",
                |o| parse::word(o, 0),
                "x-6.4.12",
            ),
            (
                "debian-jupyterhub-version.txt",
                |o| parse::word(o, 0),
                "x-3.0.0",
            ),
            (
                "debian-java-version.txt",
                |o| parse::word(o, 1),
                "x-17.0.19",
            ),
            (
                "debian-r-version.txt",
                |o| parse::line_after(o, "R version ").and_then(|r| parse::word(r, 0)),
                "x-4.2.2",
            ),
            (
                "debian-python-version.txt",
                |o| parse::line_after(o, "Python "),
                "x-3.11.2",
            ),
            (
                "pip-show-torch.txt",
                |o| parse::line_after(o, "Version:").and_then(|v| v.split('+').next()),
                "x-2.7.0",
            ),
        ];
        for (file, pick, want) in real {
            assert_eq!(run(&data(file), pick).await.unwrap(), want, "{file}");
        }
        let e = run("6.4 beta\n", |o| parse::word(o, 0))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("`v` printed `6.4 beta`: the version is followed by `beta` on its line"),
            "{e}"
        );
        assert!(e.contains("the output was:\n6.4 beta"), "{e}");
    }

    #[tokio::test]
    async fn a_version_that_does_not_start_with_a_digit_says_why() {
        let runner = FakeRunner::default().with(&["node", "--version"], "v18.20.4\n", "", 0);
        let (image, build) = (ImageInfo::example(), BuildInfo::example());
        let cache = CommandCache::default();
        let ctx = Context::new(&image, &build, &runner, &cache);
        let e = ctx
            .versioned("node", &["node", "--version"], "a version", |o| {
                parse::word(o, 0)
            })
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("`node --version` gave `v18.20.4`, which is not a version: a version starts with a digit"), "{e}");
        assert!(e.contains("trim_start_matches('v')"), "{e}");
    }

    #[tokio::test]
    async fn missing_command_is_named() {
        let runner = FakeRunner::default();
        let (image, build) = (ImageInfo::example(), BuildInfo::example());
        let cache = CommandCache::default();
        let ctx = Context::new(&image, &build, &runner, &cache);
        let e = ctx
            .stdout(&["mamba", "--version"])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("`mamba --version` is not in the image (exit 127)"),
            "{e}"
        );
    }
}

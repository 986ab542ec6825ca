//! Taggers and manifest sections described as data: a command, a pattern and
//! a prefix; or a heading and commands. The built-in table
//! ([`crate::taggers`], [`crate::manifests`]) and the rules a stack declares
//! in hierarchy.yaml run through the same code.

use std::sync::OnceLock;

use regex::Regex;

use crate::plugin::command::Cmd;
use crate::plugin::command::ExecError;
use crate::plugin::PluginError;
use crate::plugin::{Context, Manifest, Tagger};

/// Which output a rule reads. Never both: a warning on stderr must not end
/// up in a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stream {
    #[default]
    Stdout,
    /// For the programs that report there (`spark-submit --version`, `java -version`).
    Stderr,
}

impl Stream {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "stdout" => Some(Stream::Stdout),
            "stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}

/// `{prefix}-{version}`, where `version` is the named group of the first
/// match of `pattern` in the command's output. The pattern is compiled in
/// multi-line mode, so `^` and `$` anchor at line ends: a pattern that ends
/// in `$` takes the whole version token, and `6.4 beta` is no `6.4`.
#[derive(Debug, Clone)]
pub struct TaggerRule {
    pub command: Vec<String>,
    pub pattern: Regex,
    pub prefix: String,
    pub stream: Stream,
}

/// Why a pattern cannot be a rule's, for the hierarchy file's errors.
pub fn compile_pattern(pattern: &str) -> Result<Regex, String> {
    let re = Regex::new(&format!("(?m){pattern}")).map_err(|e| format!("bad pattern: {e}"))?;
    if !re.capture_names().any(|n| n == Some("version")) {
        return Err(format!(
            "pattern `{pattern}` has no `(?P<version>...)` group: name the part that is the version"
        ));
    }
    Ok(re)
}

impl TaggerRule {
    /// The value for this output, or what was expected.
    pub fn value(&self, output: &str) -> Option<String> {
        let m = self.pattern.captures(output)?.name("version")?;
        (!m.as_str().is_empty()).then(|| format!("{}-{}", self.prefix, m.as_str()))
    }

    fn expected(&self) -> String {
        let shown = self.pattern.as_str().trim_start_matches("(?m)");
        format!("a line matching `{shown}`")
    }
}

#[async_trait::async_trait]
impl Tagger for TaggerRule {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        let argv: Vec<&str> = self.command.iter().map(String::as_str).collect();
        let out = ctx.run(&argv).await?;
        let text = match self.stream {
            Stream::Stdout => &out.stdout,
            Stream::Stderr => &out.stderr,
        };
        if text.trim().is_empty() {
            return Err(ExecError::Empty {
                command: Cmd::new(&argv).to_string(),
            }
            .into());
        }
        self.value(text)
            .ok_or_else(|| ctx.parse_error(&argv, text.trim(), &self.expected()))
    }
}

/// `## {heading}`, then each command's output in a text block.
#[derive(Debug, Clone)]
pub struct ManifestRule {
    pub heading: String,
    pub commands: Vec<Vec<String>>,
    pub stream: Stream,
}

#[async_trait::async_trait]
impl Manifest for ManifestRule {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        let mut pieces = vec![format!("## {}", self.heading)];
        let stderr = self.stream == Stream::Stderr;
        for c in &self.commands {
            let argv: Vec<&str> = c.iter().map(String::as_str).collect();
            pieces.push(ctx.quoted_stream(&argv, stderr).await?);
        }
        Ok(pieces.join("\n\n"))
    }
}

/// A built-in tagger row: static text, compiled on first use.
pub struct BuiltinTagger {
    pub command: &'static [&'static str],
    pub pattern: &'static str,
    pub prefix: &'static str,
    pub stream: Stream,
    pub compiled: OnceLock<TaggerRule>,
}

impl BuiltinTagger {
    pub fn rule(&self) -> &TaggerRule {
        self.compiled.get_or_init(|| TaggerRule {
            command: self.command.iter().map(|s| s.to_string()).collect(),
            pattern: compile_pattern(self.pattern).expect("built-in patterns are tested"),
            prefix: self.prefix.to_string(),
            stream: self.stream,
        })
    }
}

#[async_trait::async_trait]
impl Tagger for BuiltinTagger {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        self.rule().tag_value(ctx).await
    }
}

/// A built-in manifest row.
pub struct BuiltinManifest {
    pub heading: &'static str,
    pub commands: &'static [&'static [&'static str]],
    pub stream: Stream,
}

#[async_trait::async_trait]
impl Manifest for BuiltinManifest {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        ManifestRule {
            heading: self.heading.to_string(),
            commands: self
                .commands
                .iter()
                .map(|c| c.iter().map(|s| s.to_string()).collect())
                .collect(),
            stream: self.stream,
        }
        .markdown(ctx)
        .await
    }
}

#[macro_export]
#[doc(hidden)]
macro_rules! stream_or_stdout {
    () => {
        $crate::plugin::rule::Stream::Stdout
    };
    ($s:ident) => {
        $crate::plugin::rule::Stream::$s
    };
}

/// One row of the built-in tagger table:
/// `name, about, [command], pattern, prefix[, stream]`.
#[macro_export]
#[doc(hidden)]
macro_rules! tagger_rows {
    ($( $name:literal, $about:literal, [$($arg:literal),+], $pattern:literal, $prefix:literal $(, $stream:ident)?; )+) => {
        $(
            $crate::inventory::submit! {
                $crate::plugin::TaggerEntry {
                    name: $name,
                    about: $about,
                    module: module_path!(),
                    tagger: {
                        static RULE: $crate::plugin::rule::BuiltinTagger = $crate::plugin::rule::BuiltinTagger {
                            command: &[$($arg),+],
                            pattern: $pattern,
                            prefix: $prefix,
                            stream: $crate::stream_or_stdout!($($stream)?),
                            compiled: ::std::sync::OnceLock::new(),
                        };
                        &RULE
                    },
                }
            }
        )+
    };
}

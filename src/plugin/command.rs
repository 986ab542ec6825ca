//! A command run inside an image's container: its argv (no shell), how it is
//! shown to people, and what it gave back.

use std::fmt;
use std::time::Duration;

/// argv of a command run by exec, without a shell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cmd(pub Vec<String>);

impl Cmd {
    pub fn new(argv: &[&str]) -> Self {
        Cmd(argv.iter().map(|s| s.to_string()).collect())
    }
}

impl From<&[&str]> for Cmd {
    fn from(argv: &[&str]) -> Self {
        Cmd::new(argv)
    }
}

impl<const N: usize> From<&[&str; N]> for Cmd {
    fn from(argv: &[&str; N]) -> Self {
        Cmd::new(argv)
    }
}

/// Shown as a shell would read it: `R --silent -e 'installed.packages(.Library)[, c(1,3)]'`.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                f.write_str(arg)?;
            } else {
                write!(f, "'{}'", arg.replace('\'', r"'\''"))?;
            }
        }
        Ok(())
    }
}

/// What a finished command gave back; stdout and stderr are never mixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i64,
}

impl Output {
    /// The stream a manifest shows for a command: stdout, or stderr for the
    /// programs that print their report there (spark-submit).
    pub fn stream(&self, stderr: bool) -> &str {
        if stderr {
            &self.stderr
        } else {
            &self.stdout
        }
    }
}

/// One distinct command run in an image's container, as a report lists it
/// (and `hook --format json` prints it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Ran {
    /// `command` (as a shell would read it) and `argv`.
    #[serde(flatten)]
    pub command: Cmd,
    /// `None` when it did not finish (timeout, output cap, daemon error).
    pub exit_code: Option<i64>,
    /// Wall time of the exec, start to end.
    #[schemars(with = "crate::formats::schema::Seconds")]
    pub seconds: f64,
    /// Why it did not finish, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// In a JSON document: `command`, as a shell would read it, and `argv`.
impl serde::Serialize for Cmd {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut map = s.serialize_struct("Cmd", 2)?;
        map.serialize_field("command", &self.to_string())?;
        map.serialize_field("argv", &self.0)?;
        map.end()
    }
}

impl schemars::JsonSchema for Cmd {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Cmd".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "required": ["command", "argv"],
            "properties": {
                "command": {"type": "string"},
                "argv": {"type": "array", "items": {"type": "string"}, "minItems": 1}
            }
        })
    }
}

/// Why a command gave no usable output. Cloneable: one run serves every
/// tagger and manifest that asked for the same command.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExecError {
    #[error("`{command}` is not in the image (exit {code}): {stderr}\n  fix: install it in the image, or take the tagger/manifest that needs it out of the list that names it (said above)")]
    Missing {
        command: String,
        code: i64,
        stderr: String,
    },
    #[error("`{command}` exited with {code}; stderr:\n{stderr}")]
    Failed {
        command: String,
        code: i64,
        stdout: String,
        stderr: String,
    },
    /// The CLI says how to allow more time.
    #[error("`{command}` did not finish within {after:?} and was stopped")]
    Timeout { command: String, after: Duration },
    /// The CLI says how to allow more.
    #[error("`{command}` wrote more than {limit} bytes and was stopped")]
    TooLarge { command: String, limit: usize },
    #[error("`{command}` gave empty output")]
    Empty { command: String },
    #[error("`{command}`: Docker: {message}")]
    Docker { command: String, message: String },
    #[error("`{command}` could not run: the container stopped ({state})")]
    ContainerStopped { command: String, state: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_what_a_shell_would_split() {
        let cmd = Cmd::new(&[
            "R",
            "--silent",
            "-e",
            "installed.packages(.Library)[, c(1,3)]",
        ]);
        assert_eq!(
            cmd.to_string(),
            "R --silent -e 'installed.packages(.Library)[, c(1,3)]'"
        );
        let cmd = Cmd::new(&["julia", "-E", "using InteractiveUtils; versioninfo()"]);
        assert_eq!(
            cmd.to_string(),
            "julia -E 'using InteractiveUtils; versioninfo()'"
        );
        assert_eq!(
            Cmd::new(&["apt", "list", "--installed"]).to_string(),
            "apt list --installed"
        );
        assert_eq!(Cmd::new(&["echo", "it's"]).to_string(), r"echo 'it'\''s'");
    }
}

//! Why a tagger or manifest could not produce its value.

use super::command::ExecError;

/// Why a tagger or manifest could not produce its value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginError {
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error("could not find {expected} in the output of `{command}`:\n{output}")]
    Parse {
        command: String,
        expected: String,
        output: String,
    },
    #[error("`{command}` printed `{line}`: the version is followed by `{extra}` on its line, and a tag made of the version alone would hide that, so none is made; the output was:\n{output}\n  fix: make the command print the version alone, or give the tagger a rule that expects the extra words")]
    MoreThanVersion {
        command: String,
        line: String,
        extra: String,
        output: String,
    },
    #[error("{0}")]
    Other(String),
}

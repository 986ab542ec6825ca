//! The JSON documents of `--format json` and `--metadata-file`: an API
//! (docs/json.md describes it, docs/json.schema.json pins it, generated from
//! these types by [`schema`]; tests/golden/json-*.json show it). Every
//! document is one object:
//!
//! ```json
//! {"schema": "stacktag/v1", "command": "hook", "ok": true, ...the command's fields...}
//! ```
//!
//! with an `error` object (`message`, `exit_code`) when the run failed. A
//! change that removes or renames a field, or changes what one means, is a
//! new schema version; adding a field is not.
//!
//! The command's fields are the library's own types where it has them
//! (`Serialize` and `JsonSchema` on the types in registry/, wiki/, hook/,
//! build/, diff/, catalog/); the files of this folder, one per command group,
//! add only what the library does not have: the envelope, names joined into
//! references, and fields only the CLI knows.

use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;

use super::exit::{exit_code, message};
use crate::error::Error;

mod archive;
mod build;
mod ci;
mod hook;
mod publish;
mod registry;
pub mod schema;
mod stack;
mod wiki;

pub use archive::{Load, Save};
pub use build::{BuildRun, DiffDoc};
pub use ci::{Ci, CiFile};
pub use hook::{Apply, ApplyImage, Hook, Image};
pub use publish::{Attach, AttachedDoc, ImageRef, Merge, MergedTag, Push, ReferrerDoc};
pub use registry::{Copy, Delete, DeletePlan, Retain, RetainImage, TagDoc, TagList};
pub use stack::{location, with_default, Check, CheckImage, Explain, Known, List, Origin};
pub use wiki::Wiki;

/// The version of the documents' shape.
pub const SCHEMA: &str = "stacktag/v1";

/// What every command prints with `--format json`.
#[derive(Debug, Serialize)]
pub struct Document {
    pub schema: &'static str,
    /// The subcommand (`hook`, `image-ref`, ...); `stacktag` when the command
    /// line named none that is known.
    pub command: String,
    /// No `error`.
    pub ok: bool,
    /// The command's own fields; on a failed run, only what was done before
    /// the failure (a partial hook run: the images that were tagged).
    #[serde(flatten)]
    pub body: Option<Body>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDoc>,
}

impl Document {
    pub fn new(command: &str, body: Option<Body>, error: Option<ErrorDoc>) -> Self {
        Document {
            schema: SCHEMA,
            command: command.to_string(),
            ok: error.is_none(),
            body,
            error,
        }
    }

    /// Pretty-printed, with a final newline.
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("a document always serialises") + "\n"
    }
}

/// Why the run failed: what stderr says, and the exit code.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "error")]
pub struct ErrorDoc {
    pub message: String,
    #[schemars(with = "schema::ExitCode")]
    pub exit_code: i32,
    /// Each failure, when there were several (images of a hook run, missing
    /// images): the image it is about, when it is about one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1))]
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub message: String,
    #[schemars(with = "schema::ExitCode")]
    pub exit_code: i32,
}

impl ErrorDoc {
    pub fn of(e: &Error) -> Self {
        let item = |image: Option<&String>, e: &Error| ErrorItem {
            image: image
                .map(String::as_str)
                .or_else(|| image_of(e))
                .map(str::to_string),
            message: message(e),
            exit_code: exit_code(e),
        };
        let errors = match e {
            Error::Several(all) => all.iter().map(|e| item(None, e)).collect(),
            Error::Partial { failed, errors, .. } => failed
                .iter()
                .zip(errors)
                .map(|(image, e)| item(Some(image), e))
                .collect(),
            _ => Vec::new(),
        };
        ErrorDoc {
            message: message(e),
            exit_code: exit_code(e),
            errors,
        }
    }
}

/// The image (short name) an error is about, when it names one.
fn image_of(e: &Error) -> Option<&str> {
    match e {
        Error::Hook(h) => h.image(),
        _ => None,
    }
}

/// The fields of each command; [`schema::COMMANDS`] says which command has which.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Body {
    /// `hook`, `tags-file`, `manifest`.
    Hook(Hook),
    Apply(Apply),
    Push(Push),
    Merge(Merge),
    ImageRef(ImageRef),
    Attach(Attach),
    Explain(Explain),
    Check(Check),
    List(List),
    Wiki(Wiki),
    Save(Save),
    Load(Load),
    Ci(Ci),
    Copy(Copy),
    Delete(Delete),
    Retain(Retain),
    Tags(TagList),
    /// `find`: the answer, as `stacktag find` prints it (docs/json.md).
    Find(crate::catalog::Answer),
    /// `build`: the plan (`--plan`), or what the run did.
    Build(BuildRun),
    /// `diff`: what changed, or that there is no earlier build.
    Diff(DiffDoc),
    /// A command of one image's document (push, merge, image-ref, attach,
    /// explain, tags) given several images, or --all: each image's, in the
    /// order done.
    Several {
        images: Vec<Body>,
    },
}

/// The fields of a command made one image at a time (push, merge,
/// image-ref, attach, explain, tags): one image's, or with several images (or `--all`)
/// `images[]`, one each. What the schema says of [`Body::Several`].
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "{T}PerImage")]
pub enum PerImage<T> {
    One(T),
    Several {
        /// Each image's document, in the order done.
        images: Vec<T>,
    },
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

// ---- the file ----

/// Writes `text` to `file` whole: to a temporary name beside it, then renamed.
pub fn write_file(file: &Path, text: &str) -> Result<(), Error> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    let mut tmp = file.as_os_str().to_owned();
    tmp.push(format!(".stacktag-{}.tmp", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let written = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, file));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(file, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_has_an_error_and_no_ok() {
        let e = Error::Several(vec![
            crate::error::HookError::ImageNotFound {
                image: "r/o/a:latest".into(),
                short: "a".into(),
            }
            .into(),
            crate::error::UnknownPlatform("mips".into()).into(),
        ]);
        let doc = Document::new("hook", None, Some(ErrorDoc::of(&e)));
        let v: serde_json::Value = serde_json::from_str(&doc.to_text()).unwrap();
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["ok"], false);
        assert_eq!(v["error"]["exit_code"], 4);
        assert_eq!(v["error"]["errors"][0]["image"], "a");
        assert_eq!(v["error"]["errors"][1]["exit_code"], 3);
        assert!(v["error"]["errors"][1].get("image").is_none());
        assert!(v.get("images").is_none());
    }

    #[test]
    fn the_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/meta.json");
        write_file(&file, "{}\n").unwrap();
        write_file(&file, "{\"a\": 1}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"a\": 1}\n");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["meta.json"], "no temporary file left");
    }
}

//! Every error's exit code, from the one table (`error::exit`), and the
//! message the user reads: the library's, with the hints that name this
//! command line's options.

pub use crate::error::exit::*;

use crate::archive::ArchiveError;
use crate::build::BuildError;
use crate::catalog::CatalogError;
use crate::ci::check::CiError;
use crate::diff::DiffError;
use crate::error::{exit, partial_summary, Error, HierarchyError, HookError, Stop};

use crate::plugin::{ExecError, PluginError};
use crate::registry::RegistryError;
use crate::wiki::WikiError;

/// The exit code of a failed run; of several failures, the first's.
pub fn exit_code(e: &Error) -> i32 {
    match e {
        Error::Config(_) | Error::Platform(_) => exit::CONFIG,
        Error::Usage(_) => exit::USAGE,
        Error::Hierarchy(h) => match h {
            HierarchyError::NotFound { .. } | HierarchyError::Config(_) => exit::CONFIG,
            HierarchyError::Read { .. } => exit::IO,
        },
        Error::Hook(h) => match h {
            HookError::ImageNotFound { .. }
            | HookError::PlatformMismatch { .. }
            | HookError::ContainerStopped { .. } => exit::IMAGE,
            HookError::Tagger { .. } | HookError::Manifest { .. } | HookError::BadTag { .. } => {
                exit::COMMAND
            }
            HookError::Connect { .. }
            | HookError::Docker { .. }
            | HookError::Apply { .. }
            | HookError::DaemonGone { .. } => exit::DOCKER,
            HookError::Interrupted(Stop::Terminate) => exit::TERMINATED,
            HookError::Interrupted(Stop::OutputClosed) => exit::CLOSED_OUTPUT,
            HookError::Interrupted(Stop::Interrupt | Stop::Cancelled) => exit::INTERRUPTED,
        },
        Error::Sbom(_) => exit::COMMAND,
        Error::Catalog(CatalogError::BadQuery(_)) => exit::USAGE,
        Error::Catalog(_) => exit::CATALOG,
        Error::Ci(CiError::Stale { .. }) => exit::CI_STALE,
        Error::Ci(_) => exit::IO,
        Error::Git(_) => exit::GIT,
        Error::File(_) => exit::IO,
        Error::Diff(d) => match d {
            DiffError::BadManifest { .. } => exit::IO,
            DiffError::DifferentImages { .. } | DiffError::NotInWiki { .. } => exit::USAGE,
        },
        Error::Wiki(WikiError::Locked { .. }) => exit::WIKI_LOCKED,
        Error::Wiki(_) => exit::WIKI_FORMAT,
        Error::Build(b) => match b {
            BuildError::NoContext { .. }
            | BuildError::NoDockerfile { .. }
            | BuildError::BadIgnore { .. }
            | BuildError::UnknownVariant { .. }
            | BuildError::MissingSecret { .. }
            | BuildError::SecretFile { .. }
            | BuildError::SecretEnv { .. }
            | BuildError::UnknownSecret { .. }
            | BuildError::NeedsBuildKit { .. } => exit::CONFIG,
            BuildError::BadBuildArg(_) | BuildError::BadSecret { .. } => exit::USAGE,
            BuildError::Platform { .. } => exit::DOCKER,
            BuildError::Frontend { .. } | BuildError::StepFailed { .. } => exit::BUILD,
            BuildError::Io { .. } => exit::IO,
            BuildError::Failed { .. } | BuildError::ParentFailed { .. } => exit::BUILD,
            BuildError::Verify { .. } => exit::VERIFY,
            BuildError::Docker { .. } => exit::DOCKER,
        },
        Error::Registry(r) => match r {
            RegistryError::Unauthorized { .. }
            | RegistryError::Denied { .. }
            | RegistryError::DeleteDenied { .. }
            | RegistryError::Credentials { .. } => exit::REGISTRY_AUTH,
            RegistryError::Refused { .. } => exit::REFUSED,
            RegistryError::DeleteUnsupported { .. } => exit::DELETE_UNSUPPORTED,
            RegistryError::MissingPlatform { .. }
            | RegistryError::NotFound { .. }
            | RegistryError::WrongPlatform { .. } => exit::MISSING_PLATFORM,
            RegistryError::NoTagsFile { .. }
            | RegistryError::BadTagsFile { .. }
            | RegistryError::NoSbom { .. } => exit::IO,
            RegistryError::Unreachable { .. }
            | RegistryError::Server { .. }
            | RegistryError::Protocol { .. }
            | RegistryError::DigestMismatch { .. }
            | RegistryError::Push { .. } => exit::REGISTRY,
        },
        Error::Archive(ArchiveError::Dirty { .. }) => exit::DIRTY,
        Error::Archive(ArchiveError::BadVersion { .. }) => exit::USAGE,
        Error::Archive(_) => exit::ARCHIVE,
        // The most severe one wins: the first failure's code.
        Error::Several(all) | Error::Partial { errors: all, .. } => {
            all.first().map_or(exit::INTERNAL, exit_code)
        }
    }
}

/// The message of an error as the user reads it: the library's words, and
/// after them what to do when that names an option of this command line.
pub fn message(e: &Error) -> String {
    match e {
        Error::Several(all) => all.iter().map(message).collect::<Vec<_>>().join("\n"),
        Error::Partial {
            tagged,
            failed,
            errors,
        } => {
            let each: Vec<String> = errors.iter().map(message).collect();
            format!("{}\n{}", each.join("\n"), partial_summary(tagged, failed))
        }
        Error::Hook(HookError::PlatformMismatch {
            image,
            actual,
            given,
        }) => format!("image {image} is {actual}, but --platform says {given}\n  fix: drop --platform (it is read from the image) or tag the right image"),
        _ => format!("{e}{}", hint(e).map(|h| format!("\n  fix: {h}")).unwrap_or_default()),
    }
}

/// What to do, when it is to give (or change) an option.
fn hint(e: &Error) -> Option<String> {
    Some(match e {
        Error::Hierarchy(HierarchyError::NotFound { .. }) => "run stacktag in the stack's directory, or pass --config FILE (or set STACKTAG_CONFIG)".into(),
        Error::Hierarchy(HierarchyError::Read { .. }) => "check the path given to --config (or STACKTAG_CONFIG)".into(),
        Error::Hook(HookError::ImageNotFound { image, short }) => format!("build it first (`stacktag build {short}`, or `docker build -t {image} <its folder>`), or name it as it is with --registry/--owner (or `registry:`/`owner:` in the hierarchy file)"),
        Error::Hook(HookError::Tagger { source, .. } | HookError::Manifest { source, .. }) => match source.as_ref() {
            PluginError::Exec(ExecError::Timeout { .. }) => "raise command_timeout in hierarchy.yaml or --command-timeout".into(),
            _ => return None,
        },
        Error::Git(_) => "run stacktag inside the stack's git checkout (with a commit), or pass --repo-dir".into(),
        Error::Wiki(WikiError::NoInput { .. }) => "run `stacktag hook` first, or pass --allow-no-files to only refresh Home.md and prune".into(),
        Error::Wiki(WikiError::Locked { .. }) => "wait for it to finish, or pass --wait SECONDS".into(),
        Error::Registry(
            RegistryError::Unauthorized { registry, .. }
            | RegistryError::Credentials { registry, .. },
        ) => format!("pass --username with --password-stdin, set STACKTAG_REGISTRY_USER and STACKTAG_REGISTRY_PASSWORD, or run `docker login {registry}`"),
        Error::Registry(RegistryError::NoSbom { image, .. }) => format!("run `stacktag hook --sbom {image}` for this commit, or pass the right --sbom-dir / --repo-dir"),
        Error::Registry(RegistryError::MissingPlatform { .. }) => "push them (`stacktag push` on each platform's machine) and merge again, or pass --allow-missing-platform to publish what is there".into(),
        Error::Registry(RegistryError::Refused { fix, .. }) => format!("{fix}, or pass --force to do it anyway"),
        Error::Diff(DiffError::DifferentImages { .. }) => "compare two builds of one image, or pass --force to compare them anyway".into(),
        Error::Diff(DiffError::NotInWiki { .. }) => "check --image, --platform and --variant".into(),
        Error::Archive(ArchiveError::Dirty { .. }) => "commit the changes and build again, or pass --allow-dirty to publish it anyway".into(),
        Error::Catalog(CatalogError::Missing { wiki_dir, .. }) => format!("run `stacktag wiki` on the wiki (it writes {wiki_dir}/), then `--html` to publish it; or point --catalog at a wiki checkout, a site or its catalog/"),
        Error::Catalog(CatalogError::Corrupt { .. }) => "run `stacktag wiki --allow-no-files` on the wiki to rewrite it (and `--html` to publish it again)".into(),
        _ => return None,
    })
}

//! The documented exit codes (docs/exit-codes.md), every error's code from
//! that one table, and the message the user reads: the library's, with the
//! hints that name this command line's options. The library knows no exit
//! code.

use crate::archive::ArchiveError;
use crate::build::BuildError;
use crate::catalog::CatalogError;
use crate::ci::check::CiError;
use crate::cli::exit;
use crate::diff::DiffError;
use crate::error::{partial_summary, Error, HierarchyError, HookError, Stop};

use crate::plugin::{ExecError, PluginError};
use crate::registry::{CredentialSource, RegistryError};
use crate::sbom::SbomError;
use crate::wiki::WikiError;

pub const OK: i32 = 0;
pub const INTERNAL: i32 = 1;
pub const USAGE: i32 = 2;
pub const CONFIG: i32 = 3;
pub const IMAGE: i32 = 4;
pub const COMMAND: i32 = 5;
pub const DOCKER: i32 = 6;
pub const GIT: i32 = 7;
pub const IO: i32 = 8;
pub const WIKI_FORMAT: i32 = 9;
pub const WIKI_LOCKED: i32 = 10;
pub const REGISTRY: i32 = 11;
pub const REGISTRY_AUTH: i32 = 12;
pub const MISSING_PLATFORM: i32 = 13;
pub const ARCHIVE: i32 = 14;
pub const DIRTY: i32 = 15;
pub const BUILD: i32 = 16;
pub const VERIFY: i32 = 17;
pub const CI_STALE: i32 = 18;
pub const REFUSED: i32 = 19;
pub const DELETE_UNSUPPORTED: i32 = 20;
pub const CATALOG: i32 = 21;
pub const INTERRUPTED: i32 = 130;
/// stdout or stderr was closed (a pipe whose reader left), as SIGPIPE would.
pub const CLOSED_OUTPUT: i32 = 141;
pub const TERMINATED: i32 = 143;

/// Every code and what it means: the one list. `--help` is made from it,
/// and a test checks docs/exit-codes.md against it.
pub const TABLE: &[(i32, &str)] = &[
    (OK, "success"),
    (INTERNAL, "internal error (a bug: please report it)"),
    (USAGE, "bad command line"),
    (CONFIG, "bad or missing hierarchy file; unknown image, tagger or manifest"),
    (IMAGE, "image not found on the daemon, or --platform disagrees with it"),
    (COMMAND, "a command in the container failed, hung, or gave output no tag can be made of"),
    (DOCKER, "the Docker daemon is unreachable, refused a request, or went away during the run"),
    (GIT, "git: no repository or no commit at --repo-dir"),
    (IO, "a file could not be read or written"),
    (WIKI_FORMAT, "wiki: an input manifest or history line, a wiki page or the Home template is not in the expected format (nothing was written)"),
    (WIKI_LOCKED, "wiki: another `stacktag wiki` is updating the same wiki (see --wait)"),
    (REGISTRY, "the registry is unreachable or failed (after retries), or refused a request"),
    (REGISTRY_AUTH, "the registry refused the credentials (401/403), or they could not be read"),
    (MISSING_PLATFORM, "merge: a platform image is missing in the registry; image-ref, attach: no such tag there (`--digests`: every one missing is named)"),
    (ARCHIVE, "an image archive is corrupt or cut short, or does not match its checksum or its name"),
    (DIRTY, "push: a dirty build (uncommitted changes, or a version like latest, dev, *.dirty) refused without --allow-dirty"),
    (BUILD, "build: an image failed to build (its log's last lines are shown); `latest` is where it was"),
    (VERIFY, "build: an image's verify command failed; its branch is not built further and `latest` is where it was"),
    (CI_STALE, "ci check: a committed CI file is not what `stacktag ci` writes now (the diff is printed)"),
    (REFUSED, "delete, retain: refused without --force (a tag a moving tag such as latest points to, or every build); nothing was deleted"),
    (DELETE_UNSUPPORTED, "delete, retain: the registry does not allow deletes (405 UNSUPPORTED); nothing was deleted"),
    (CATALOG, "find: the catalog is missing (the wiki has none yet, or the path or URL holds none) or corrupt (a file missing or not what its format says)"),
    (INTERRUPTED, "interrupted (Ctrl-C). Containers are removed; an image whose tags were being applied gets all of them (and its files) first, the others nothing"),
    (TERMINATED, "terminated (SIGTERM), as for Ctrl-C"),
    (CLOSED_OUTPUT, "stdout or stderr was closed (piped into `head`, say): the run stopped as on Ctrl-C, quietly, containers removed"),
];

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
        Error::Catalog(CatalogError::BadQuery(_) | CatalogError::NoConstraint) => exit::USAGE,
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
            BuildError::Platform { .. } | BuildError::ClassicPlatform { .. } => exit::DOCKER,
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
        Error::Archive(ArchiveError::NotWritten { .. }) => exit::IO,
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
        _ => format!(
            "{}{}",
            worded(e).unwrap_or_else(|| e.to_string()),
            hint(e).map(|h| format!("\n  fix: {h}")).unwrap_or_default()
        ),
    }
}

/// The whole message, when the library's names an input that an option of
/// this command line gave (`secret id=...` is `--secret id=...` here).
fn worded(e: &Error) -> Option<String> {
    Some(match e {
        Error::Hook(HookError::PlatformMismatch {
            image,
            actual,
            given,
        }) => format!("image {image} is {actual}, but --platform says {given}\n  fix: drop --platform (it is read from the image) or tag the right image"),
        Error::Build(b) => match b {
            BuildError::BadBuildArg(text) => format!("--build-arg {text:?} is not NAME=VALUE"),
            // The library's message starts with the option's name (`secret
            // id=...`, `platform linux/arm64`), as this command line spells it
            // after `--`.
            BuildError::BadSecret { .. }
            | BuildError::SecretFile { .. }
            | BuildError::SecretEnv { .. }
            | BuildError::Platform { .. }
            | BuildError::ClassicPlatform { .. } => format!("--{b}"),
            _ => return None,
        },
        Error::Registry(
            r @ (RegistryError::Unauthorized { credentials: CredentialSource::Flags, .. }
            | RegistryError::Denied { credentials: CredentialSource::Flags, .. }
            | RegistryError::DeleteDenied { credentials: CredentialSource::Flags, .. }
            | RegistryError::Credentials { credentials: CredentialSource::Flags, .. }),
        ) => r.to_string().replacen(CredentialSource::GIVEN, "--username/--password-stdin", 1),
        Error::Catalog(CatalogError::NoConstraint) => "no constraint: name a package (`numpy`, `numpy=1.26`), --package, or --image".into(),
        Error::Archive(ArchiveError::NotWritten { path, dir, source }) => format!("{}: cannot be written: {source}\n  fix: free space in {} or save to another --dir; nothing was left under this name", path.display(), dir.display()),
        _ => return None,
    })
}

/// What to do, when it is to give (or change) an option.
fn hint(e: &Error) -> Option<String> {
    Some(match e {
        Error::Hierarchy(HierarchyError::NotFound { .. }) => "run stacktag in the stack's directory, or pass --config FILE (or set STACKTAG_CONFIG)".into(),
        Error::Hierarchy(HierarchyError::Read { .. }) => "check the path given to --config (or STACKTAG_CONFIG)".into(),
        Error::Hook(HookError::ImageNotFound { image, short }) => format!("build it first (`stacktag build {short}`, or `docker build -t {image} <its folder>`), or name it as it is with --registry/--owner (or `registry:`/`owner:` in the hierarchy file)"),
        Error::Hook(HookError::Tagger { source, .. } | HookError::Manifest { source, .. })
        | Error::Sbom(SbomError::Command { source, .. }) => match source.as_ref() {
            PluginError::Exec(ExecError::Timeout { .. }) => "raise command_timeout in hierarchy.yaml or --command-timeout".into(),
            PluginError::Exec(ExecError::TooLarge { .. }) => "make the command print less, or raise --max-output".into(),
            _ => return None,
        },
        Error::Build(BuildError::ClassicPlatform { .. }) => "build with BuildKit (drop --builder classic)".into(),
        Error::Build(BuildError::UnknownSecret { id, .. }) => format!("add --secret id={id},src=FILE or --secret id={id},env=VARIABLE"),
        Error::Build(BuildError::UnknownVariant { .. }) => "build it without --variant, or add the variant to its `variants:`".into(),
        Error::Build(BuildError::NeedsBuildKit { fallback: false, .. }) => "build with BuildKit (drop --builder classic or STACKTAG_BUILDER=classic), or write the Dockerfile without it".into(),
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
        Error::Archive(ArchiveError::NotInDir { image, dir }) => format!("save it first (`stacktag save {image} --dir {}`)", dir.display()),
        Error::Archive(ArchiveError::CompressedExport { .. }) => "save it with --layers tar".into(),
        Error::Archive(ArchiveError::Dirty { .. }) => "commit the changes and build again, or pass --allow-dirty to publish it anyway".into(),
        Error::Catalog(CatalogError::Missing { wiki_dir, .. }) => format!("run `stacktag wiki` on the wiki (it writes {wiki_dir}/), then `--html` to publish it; or point --catalog at a wiki checkout, a site or its catalog/"),
        Error::Ci(CiError::Unknown { .. }) => "say which engine with `stacktag ci check --github FILE` or `--gitlab FILE`".into(),
        Error::Ci(CiError::Nothing) => "write one with `stacktag ci github` or `stacktag ci gitlab`, or name it (`--github FILE`, `--gitlab FILE`)".into(),
        Error::Ci(CiError::Stale { stale }) => format!("run {} again and commit the result", stale.iter().map(|s| format!("`{} --output {}`", s.command, s.path.display())).collect::<Vec<_>>().join(" and ")),
        Error::Catalog(CatalogError::BadQuery(_) | CatalogError::NoConstraint) => "see `stacktag find --help` for how constraints are written".into(),
        Error::Catalog(CatalogError::Corrupt { .. }) => "run `stacktag wiki --allow-no-files` on the wiki to rewrite it (and `--html` to publish it again)".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library says which input was wrong; the CLI names the option.
    #[test]
    fn the_cli_names_the_options_the_library_does_not() {
        let errors: Vec<Error> = vec![
            BuildError::BadSecret {
                text: "idtok".into(),
                why: "`idtok` is not KEY=VALUE".into(),
            }
            .into(),
            BuildError::UnknownVariant {
                image: "base".into(),
                variant: "cuda".into(),
                known: "default".into(),
            }
            .into(),
            BuildError::ClassicPlatform {
                platform: "linux/arm64".into(),
                native: "linux/amd64".into(),
            }
            .into(),
            ArchiveError::NotInDir {
                image: "base".into(),
                dir: "archives".into(),
            }
            .into(),
            CatalogError::NoConstraint.into(),
            RegistryError::Unauthorized {
                registry: "r.example".into(),
                what: "pushing".into(),
                credentials: CredentialSource::Flags,
            }
            .into(),
        ];
        let said: Vec<String> = errors.iter().map(message).collect();
        for (e, said) in errors.iter().zip(&said) {
            assert!(
                !e.to_string().contains("--"),
                "library text names an option: {e}"
            );
            assert!(said.contains("--"), "{said}");
        }
        assert_eq!(
            said[0],
            "--secret \"idtok\": `idtok` is not KEY=VALUE\n  fix: write it as id=NAME,src=FILE or id=NAME,env=VARIABLE"
        );
        assert_eq!(
            said[1],
            "base: has no variant `cuda` (its variants: default)\n  fix: build it without --variant, or add the variant to its `variants:`"
        );
        assert_eq!(
            said[3],
            "no archive of base in archives (named base_{version}_{id12}.tar[.zst|.gz])\n  fix: save it first (`stacktag save base --dir archives`)"
        );
        assert!(
            said[5].starts_with("registry r.example answered 401 Unauthorized while pushing, using --username/--password-stdin\n  fix: pass --username"),
            "{}",
            said[5]
        );
    }
}

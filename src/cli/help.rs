//! The manual: the texts `--help` shows, and the exit-code table (from
//! [`super::exit::TABLE`], the one list of codes).

use super::exit;

pub const ABOUT: &str =
    "Tag a stack of Docker images from what runs inside them, and write their build manifests";

pub const LONG_ABOUT: &str = "\
Tag a stack of Docker images from what runs inside them, and write their build manifests.

After a stack is built, stacktag starts each image once (one container, networking off,
its entrypoint replaced by stacktag's keep-alive), runs the commands its taggers and manifests
need (each command once, all at the same time, no shell), removes the container, and then,
only if every tagger and manifest of the image succeeded, writes the files and applies the tags.

The stack is described by a hierarchy file (--config or STACKTAG_CONFIG, else ./hierarchy.yaml;
nothing else): each image names its parent, taggers, manifests and variants, and gets its
ancestors' taggers and manifests, root first.

Files (under --out-dir, default build/stacktag, or the single-directory options):
  tags/{platform}-{variant}-{image}.txt                 full references, one per line
  manifests/{platform}-{variant}-{image}-{sha12}.md     the build manifest (markdown)
  hist_lines/{platform}-{variant}-{image}-{sha12}.txt   the wiki's build history row

Output: results on stdout, progress and errors on stderr. With --format json, stdout gets one JSON
document instead (schema `stacktag/v1`, see docs/json.md): the images, tags, files, image IDs,
digests and timings, and on a failed run an `error` object with the message and the exit code.
--metadata-file FILE writes the same document to FILE, whatever --format says (for CI steps that
also want the text).

The commit is HEAD of the git repository around --repo-dir (default: the current directory).
The daemon is found like the docker CLI finds it: DOCKER_HOST (unix:// or tcp://), else
/var/run/docker.sock; with DOCKER_TLS_VERIFY=1, over TLS with ca.pem, cert.pem and key.pem from
DOCKER_CERT_PATH (default ~/.docker). ssh:// is not supported: tunnel the socket instead.";

pub const EXAMPLES: &str = "\
Examples:
  stacktag hook base-notebook                 tag, manifest and history line, in one go
  stacktag hook --all                         every image of the stack, concurrently
  stacktag explain r-notebook                 what runs on an image, and where it comes from
  stacktag check --config my/hierarchy.yaml   validate a hierarchy file
  stacktag hook --all --format json > hook.json    the same, as one JSON document (docs/json.md)
  stacktag wiki --wiki-dir ../stack.wiki --hist-lines-dir build/stacktag/hist_lines \\
      --manifests-dir build/stacktag/manifests --html build/wiki-html
                                              add the builds to the wiki, then render it";

pub const REGISTRY_HELP: &str = "\
Credentials, first found wins: --username with --password-stdin; STACKTAG_REGISTRY_USER and
STACKTAG_REGISTRY_PASSWORD; the Docker config (DOCKER_CONFIG or ~/.docker/config.json, credential
helpers and identity tokens included); else anonymous. Loopback registries (localhost, 127.*) are spoken to in plain
HTTP, others in HTTPS. Exit codes: #REGISTRY registry unreachable or failing, #REGISTRY_AUTH credentials refused,
#MISSING_PLATFORM platform image or tag missing in the registry (see `stacktag --help`).";

/// Credentials, exit codes and examples of the registry commands.
pub fn registry_after(examples: &str) -> String {
    let credentials = REGISTRY_HELP
        .split(" Exit codes:")
        .next()
        .unwrap_or_default();
    format!("{credentials}\n\n{}", after(REGISTRY_CODES, examples))
}

/// Credentials, exit codes and examples of copy, delete, retain and tags.
pub fn registry_ops_after(examples: &str) -> String {
    let credentials = REGISTRY_HELP
        .split(" Exit codes:")
        .next()
        .unwrap_or_default();
    format!(
        "{credentials} Each registry's credentials are looked up by its host (a copy between two \
registries with different accounts: `docker login` to each).\n\n{}",
        after(REGISTRY_OPS_CODES, examples)
    )
}

/// `Exit codes:` and the examples, for the top-level `--help`.
pub fn after_long_help() -> String {
    format!(
        "{}\n{EXAMPLES}",
        exit_codes(exit::TABLE.iter().map(|(c, _)| *c))
    )
}

/// The `Exit codes:` block for these codes, as the table words them.
pub fn exit_codes(codes: impl IntoIterator<Item = i32>) -> String {
    let mut text = String::from("Exit codes:\n");
    for code in codes {
        let (_, meaning) = exit::TABLE
            .iter()
            .find(|(c, _)| *c == code)
            .expect("a documented code");
        let mut lines = wrap(meaning, 86).into_iter();
        text += &format!("  {code:<4} {}\n", lines.next().unwrap_or_default());
        for l in lines {
            text += &format!("       {l}\n");
        }
    }
    text
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let cur = lines.last_mut().expect("one line");
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    lines
}

/// A help text whose exit codes are written `#NAME` (`#DIRTY`), with each
/// replaced by its number from the table's constants, so prose cannot go
/// stale when a code changes.
pub fn codes(text: &str) -> String {
    const NAMES: &[(&str, i32)] = &[
        ("USAGE", USAGE),
        ("CONFIG", CONFIG),
        ("IMAGE", IMAGE),
        ("DOCKER", DOCKER),
        ("IO", IO),
        ("REGISTRY_AUTH", REGISTRY_AUTH),
        ("REGISTRY", REGISTRY),
        ("MISSING_PLATFORM", MISSING_PLATFORM),
        ("ARCHIVE", ARCHIVE),
        ("DIRTY", DIRTY),
        ("REFUSED", REFUSED),
        ("DELETE_UNSUPPORTED", DELETE_UNSUPPORTED),
        ("OK", OK),
    ];
    let mut out = text.to_string();
    // Longest names first: `#REGISTRY_AUTH` before `#REGISTRY`.
    for (name, code) in NAMES {
        out = out.replace(&format!("#{name}"), &code.to_string());
    }
    assert!(!out.contains('#'), "a #NAME without its code in: {out}");
    out
}

/// `Exit codes:` for these codes, then the examples.
pub fn after(codes: &[i32], examples: &str) -> String {
    format!(
        "{}\nExamples:\n{examples}",
        exit_codes(codes.iter().copied())
    )
}

use exit::*;

pub const HOOK: &str = "\
Tag images after a build: for each image, start one container from {registry}/{owner}/{image}:latest
(networking off unless `network: true`), run every command its taggers and manifests need (each once,
all at the same time, no shell, stdout and stderr apart), remove the container, then write the files
and apply the tags.

All or nothing per image: when any tagger or manifest of an image fails, that image gets no tag and
no file. Before anything starts, every image named (or every image, with --all) must exist on the
daemon: a missing one stops the run with nothing done, all missing ones named. At the end the run
says which images were tagged and which were not.

Tags: {platform}-latest, then one {platform}-{value} per tagger, root's taggers first
({platform}-{variant}- for a variant), e.g. x86_64-python-3.13.5. The platform is read from the image.

Files, under --out-dir (default build/stacktag; add build/ to your .gitignore):
  tags/{platform}-{variant}-{image}.txt                 full references, one per line
  manifests/{platform}-{variant}-{image}-{sha12}.md     the build manifest (markdown)
  hist_lines/{platform}-{variant}-{image}-{sha12}.txt   the wiki's build history row
Each is written to a temporary name and renamed into place once every tag is applied.

--format json: per image its reference, image ID, platform, variant, tags, files, every command
run (exit code, seconds) and timings; a partial run lists the images that were tagged, beside the
error.";

pub const HOOK_EXAMPLES: &str =
    "  stacktag hook base-notebook              one image (build it first)
  stacktag hook --all --jobs 2             every image, at most 2 at a time
  stacktag hook --all --out-dir out/       files under out/
  stacktag hook --all --metadata-file hook.json    the text, and the JSON document in hook.json
  STACKTAG_TIMESTAMP=2026-11-22T23:48:58Z stacktag hook base-notebook   reproducible files";

pub const HOOK_CODES: &[i32] = &[
    OK,
    USAGE,
    CONFIG,
    IMAGE,
    COMMAND,
    DOCKER,
    GIT,
    IO,
    INTERRUPTED,
    TERMINATED,
];

pub const TAGS_FILE: &str = "\
Write the tags file of each image (upstream's write_tags_file): the same container and taggers as
`stacktag hook`, only tags/{platform}-{variant}-{image}.txt is written and nothing is applied.";

pub const TAGS_FILE_EXAMPLES: &str = "  stacktag tags-file base-notebook
  stacktag tags-file base-notebook --variant cuda12 --tags-dir /tmp/tags";

pub const MANIFEST: &str = "\
Write the build manifest and history line of each image (upstream's write_manifest): the same
container, taggers and manifests as `stacktag hook`; no tags file, nothing applied.";

pub const MANIFEST_EXAMPLES: &str = "  stacktag manifest base-notebook
  stacktag manifest --all --manifests-dir m/ --hist-lines-dir h/";

pub const APPLY: &str = "\
Apply the tags of an image's tags file (tags/{platform}-{variant}-{image}.txt) to the image
(upstream's apply_tags). Every tag or none: a failure removes the tags already applied.";

pub const APPLY_EXAMPLES: &str = "  stacktag apply base-notebook
  stacktag apply --all
  stacktag apply base-notebook --source my-build:42";

pub const APPLY_CODES: &[i32] = &[
    OK,
    USAGE,
    CONFIG,
    IMAGE,
    DOCKER,
    IO,
    INTERRUPTED,
    TERMINATED,
];

pub const EXPLAIN: &str = "\
Show what runs on an image: the reference it is read from, its parent and chain, the Dockerfile its
history line links, and every tagger and manifest in the order they run, with the ancestor whose
list names it (and the file line of those declared in the hierarchy file). Several images, or
--all, are shown one after another, a blank line between them.";

pub const EXPLAIN_EXAMPLES: &str = "  stacktag explain r-notebook
  stacktag explain --chain r-notebook      root first, one per line (for scripts)
  stacktag explain --all --format json";

pub const CHECK: &str = "\
Validate the hierarchy file and print the image tree: each image's full reference, and the
registry, owner and repository (saying which are defaults: quay.io, jupyter, jupyter/docker-stacks).
Every problem of the file is reported in one run, each with its line. Each image's Dockerfile
(where it exists) must start its final stage FROM its `parent:` (resolved with the build args a
build passes: REGISTRY, OWNER, `build_args:`, ARG defaults), and a root's FROM must not be an
image of the stack: each disagreement names both files' lines and the fix.";

pub const CHECK_EXAMPLES: &str = "  stacktag check
  stacktag check --config my/hierarchy.yaml
  for img in $(stacktag check --images); do ...; done   parents before children";

pub const NAMES_CODES: &[i32] = &[OK, USAGE, CONFIG, IO];

pub const CI_CODES: &[i32] = &[OK, USAGE, CONFIG, IO, CI_STALE];

pub const LIST: &str = "\
List the taggers and manifests this binary knows (built-ins and plugins compiled in), and those the
hierarchy file declares, with where.";

pub const LIST_EXAMPLES: &str = "  stacktag list";

pub const WIKI: &str = "\
Add builds to the stack's wiki (a git checkout of {repository}.wiki), as upstream's update_wiki:
each manifest to manifests/YYYY/YYYY-MM/, each history line into monthly-files/YYYY/YYYY-MM.md
(newest first, never twice), Home.md rewritten from the template, at most --keep manifests kept.
Every input is checked before anything is written; pages are written whole (temporary file, then
rename). With --html, render the wiki as a static site. Commit and push the checkout yourself.";

pub const WIKI_EXAMPLES: &str =
    "  stacktag wiki --wiki-dir ../stack.wiki --hist-lines-dir build/stacktag/hist_lines \\
      --manifests-dir build/stacktag/manifests
  stacktag wiki --wiki-dir ../stack.wiki --html build/wiki-html";

pub const WIKI_CODES: &[i32] = &[OK, USAGE, CONFIG, GIT, IO, WIKI_FORMAT, WIKI_LOCKED];

pub const PUSH: &str = "\
Push every tag of each image's tags file to its registry, through the Docker daemon, then read each
tag's digest back from the registry (printed as `name:tag sha256:...`); several images (or --all)
go parents first, and a dirty one stops the run before anything is pushed. With --archive FILE, the
image of an archive from `stacktag save` goes straight into the registry, no daemon: the archive
is checked against its .sha256 in the one pass that reads it, and what it holds is cached
(~/.cache/stacktag/archives), so pushing it again does not read it while it is unchanged. A dirty
build is refused (exit #DIRTY) unless --allow-dirty; a bad archive is exit #ARCHIVE.";

pub const PUSH_EXAMPLES: &str = "  stacktag push base-notebook
  stacktag push --all                              every image of the stack, parents first
  echo \"$TOKEN\" | stacktag push base-notebook --username bot --password-stdin
  stacktag push base-notebook --metadata-file push.json   each tag's digest in push.json";

pub const MERGE: &str = "\
Put the multi-platform tags of each image: for each tag of the platforms' tags files with the
leading {platform}- removed, one image index in the registry holding every platform's image.
Everything is checked before anything is written.";

pub const MERGE_EXAMPLES: &str = "  stacktag merge base-notebook --dry-run
  stacktag merge --all --allow-missing-platform
  stacktag merge base-notebook --format json | jq -r '.merged[].digest'";

pub const IMAGE_REF: &str = "\
Print name@sha256:... of each pushed image, read from the registry: of `latest` (the merged
index), of {platform}-latest with --platform, or of any --tag; with --digests, every digest of
the build. For signing steps.";

pub const IMAGE_REF_EXAMPLES: &str = "  stacktag image-ref base-notebook
  cosign sign --yes $(stacktag image-ref base-notebook --platform x86_64)
  stacktag image-ref --all --digests --format json | jq -r '.references[]'   all to sign";

pub const REGISTRY_CODES: &[i32] = &[
    OK,
    USAGE,
    CONFIG,
    DOCKER,
    IO,
    REGISTRY,
    REGISTRY_AUTH,
    MISSING_PLATFORM,
];

pub const ATTACH: &str = "\
Attach the SBOM files of an image's build ({sbom_dir}/{platform}-{variant}-{image}-{sha12}.spdx.json
and .cdx.json, from `stacktag hook --sbom`) to its pushed platform image, as OCI artifacts whose
subject is the image's manifest: through the registry's referrers API where it has one, else the
OCI 1.1 referrers tag (sha256-{hex}), updated rather than overwritten. `image-ref --referrers` lists
what is attached.";

pub const ATTACH_EXAMPLES: &str = "  stacktag attach base-notebook
  stacktag push base-notebook --attach-sbom      push, then attach";

pub const SAVE: &str = "\
Write each image ({registry}/{owner}/{image}:latest) to {dir}/{image}_{version}_{id12}.{ext}: the
daemon's own export, streamed through the compressor (zstd by default, multi-threaded) into a
temporary file renamed into place, with {file}.sha256 beside it (sha256sum format). The version is
the commit's sha12, or {sha12}.dirty when the image's context (its `context` in the hierarchy
file, default images/{image}, beside the file) or an ancestor's has uncommitted changes, or
--version. A full disk is exit #IO, and leaves neither file.";

pub const SAVE_EXAMPLES: &str = "  stacktag save --all --dir build/archives
  stacktag save base-notebook --dir out --compress gzip";

pub const LOAD: &str = "\
Load archives made by `stacktag save` into the daemon: the checksum is checked first, the archive
is streamed into the daemon's import, and the loaded image's ID must start with the id12 of the
archive's name, else it is refused. When the daemon has that image already (a CI runner that
built it), the archive is read and checked the same way and its names put on the image: nothing is
imported. With --dir, the newest archive of each image is loaded. Both layouts load: docker-archive (manifest.json, Docker 20.10) and OCI (index.json, Docker 25+).";

pub const LOAD_EXAMPLES: &str =
    "  stacktag load build/archives/base-notebook_1ffe43816ba9_0123456789ab.tar.zst
  stacktag load --dir build/archives base-notebook minimal-notebook";

pub const ARCHIVE_CODES: &[i32] = &[OK, USAGE, CONFIG, IMAGE, DOCKER, GIT, IO, ARCHIVE];

pub const PRUNE: &str = "\
Remove local images of the stack's repositories that nothing needs: not the current `latest` of an
image, not an ancestor of one in use, and holding no tag listed in the current tags files.
Containers are never touched. --dry-run lists what would go; --keep N keeps the N newest builds
of each image.";

pub const PRUNE_EXAMPLES: &str = "  stacktag prune --dry-run
  stacktag prune --keep 2";

pub const PRUNE_CODES: &[i32] = &[OK, USAGE, CONFIG, DOCKER, IO];

pub const BUILD_EXAMPLES: &str =
    "  stacktag build --all --plan                  what would be reused, pulled or built, and why
  stacktag build --all --plan --format json    the plan by dependency level, for a CI matrix
  stacktag build base-notebook                 it and its ancestors; unchanged ones are reused
  stacktag build --all --cache-from-registry --push-cache
  stacktag build base --secret id=tok,src=tok.txt  for RUN --mount=type=secret,id=tok
  stacktag build --all --platform linux/arm64  for arm64 through QEMU (scripts/binfmt)";

pub const BUILD_CODES: &[i32] = &[
    OK,
    USAGE,
    CONFIG,
    DOCKER,
    IO,
    REGISTRY,
    REGISTRY_AUTH,
    BUILD,
    VERIFY,
    INTERRUPTED,
];

pub const GC: &str = "\
Remove the containers stacktag made (label org.stacktag.managed) whose run is no longer alive: a
run killed with SIGKILL, a daemon or machine that crashed. Each container names the process that
made it (host, boot, PID namespace, pid and start time); a container of a live run, of another
machine or PID namespace is kept. Every stacktag run does this too.";

pub const GC_EXAMPLES: &str = "  stacktag gc --dry-run
  stacktag gc";

pub const GC_CODES: &[i32] = &[OK, USAGE, DOCKER, IO];

pub const DIFF: &str = "\
What changed between two builds of an image: for apt, pip, conda, R and Julia the packages added,
removed and changed (old -> new version), read from the manifests, and the tags whose value
changed (python-3.12.9 -> python-3.13.1). Sections declared in hierarchy.yaml are compared too:
one whose output is `name version` pairs as packages, any other line by line; a section with no
command output to compare is named as not compared. Two manifest files, or --wiki-dir with --image
for the newest build in the wiki against the one before it. Markdown, or --format json.
It compares two builds of one image, so it takes no IMAGE... and no --all: OLD and NEW are files,
and --image names the one image of --wiki-dir.";

pub const DIFF_EXAMPLES: &str = "  stacktag diff old/x86_64-default-base-notebook-aaaa.md new/x86_64-default-base-notebook-bbbb.md
  stacktag diff --wiki-dir ../stack.wiki --image base-notebook --format json";

pub const FIND: &str = "\
Which builds hold what: every build in the wiki whose packages (apt, pip, conda, R, Julia), tagger
values (python-3.11.6 is `python` 3.11.6) and own fields (image, platform, variant) meet all the
constraints, newest first, each with its pinnable reference (image:tag, or image@sha256:... when
the digest is known), its tags and its page. Constraints read as conda's match specs: `python=3.11`
is 3.11 or 3.11.x, `==` is exact; versions compare by each ecosystem's rules (Debian's for apt,
PEP 440 for pip and conda, semver-like for the rest). The catalog is the one `stacktag wiki` writes:
a wiki checkout (.stacktag/catalog/), a rendered site (catalog/), or a published site's URL.
Its arguments are constraints, not images, so it takes no IMAGE... and no --all: --image is one
more constraint (image=NAME), which every build may meet.";

pub const FIND_EXAMPLES: &str = "  stacktag find numpy=1.26 python=3.11 --platform aarch64
  stacktag find 'r>=4.4' --image r-notebook --first     the first build that had it
  stacktag find --package pandas --image scipy-notebook --limit 0
  stacktag find 'conda:numpy>=1.24,<2' --catalog https://example.org/stack-wiki/ --format json";

pub const FIND_CODES: &[i32] = &[OK, USAGE, CATALOG];

pub const DIFF_CODES: &[i32] = &[OK, USAGE, IO];

pub const REGISTRY_OPS_CODES: &[i32] = &[
    OK,
    USAGE,
    CONFIG,
    IO,
    REGISTRY,
    REGISTRY_AUTH,
    MISSING_PLATFORM,
    REFUSED,
    DELETE_UNSUPPORTED,
];

pub const COPY: &str = "\
Copy tags from one registry (or repository) to another, as they are: an image index with its
platform images and BuildKit's attestation manifests, each image with its config and layers, and
the referrers of each manifest (SBOMs attached by `stacktag attach`), listed at the target by its
referrers API or the referrers tag (sha256-{hex}). Blobs go from registry to registry as a stream,
never through a daemon or the disk; blobs the target has are skipped, and on one registry they are
mounted. Manifests are copied byte for byte, so the digests at the target are the source's: each
tag is read back and checked, and `{target}@{digest}` printed. The tags are written last: a copy cut
short leaves no tag on a half-copied image, and running it again sends only what is missing.

Name the images as REGISTRY/OWNER/IMAGE[:TAG] (SRC and DST), or with --image (or --all) and
--to-registry as the hierarchy file names them (--image is repeatable: SRC and DST are references,
so the images of the hierarchy file are not positional here). The tags: SRC's, --tag (repeatable),
or every tag of one build with --build (the tags on the digests of its commit tags, see `stacktag
tags`).";

pub const COPY_EXAMPLES: &str =
    "  stacktag copy docker.io/jupyter/base-notebook:2026-11-24 quay.io/jupyter/base-notebook
  stacktag copy --all --build 1ffe43816ba9 --to-registry quay.io    a whole build, every image
  stacktag copy --image base-notebook --tag latest --tag python-3.11 --to-registry quay.io";

pub const DELETE: &str = "\
Delete tags. A tag whose manifest another tag still needs (points to it, or to an index that names
it) is removed alone; a manifest no remaining tag needs is deleted, with its referrers (SBOMs,
signatures) and referrers tag, and so are the platform and attestation manifests of an index that
nothing else needs. A tag on what a moving tag points to (any tag but a commit tag, a date tag
YYYY-MM-DD or a referrers tag: latest, python-3.11, ...) is refused without --force (exit #REFUSED).

Before anything is deleted, the registry is asked whether it allows deletes and the credentials may
delete: if not, nothing is (exit #DELETE_UNSUPPORTED, or #REGISTRY_AUTH for credentials that may not delete). A tag that points
elsewhere when its turn comes (a push raced the delete) is left as it is. On registries that do not
delete tags alone (distribution 2), such a tag is first moved to a placeholder manifest, which is
then deleted. It takes tags (IMAGE:TAG), not images, so no --all: --image names the one image whose
--build goes.";

pub const DELETE_EXAMPLES: &str =
    "  stacktag delete quay.io/jupyter/base-notebook:2023-01-02 --dry-run
  stacktag delete base-notebook:2023-01-02 base-notebook:x86_64-2023-01-02
  stacktag delete --image base-notebook --build 1ffe43816ba9     every tag of one build";

pub const RETAIN: &str = "\
Keep the builds of an image that matter and delete the rest. A build is a commit tag's digest with
every tag on it (see `stacktag tags`). Kept: the newest --keep builds (by their date tag, else the
day their image was created), every build a moving tag (latest, python-3.11, ...) points to, every
build the wiki's manifests of the last --keep-months months cite (--wiki-dir), and builds with no
date. The others are deleted as `stacktag delete` deletes their tags. A plan that keeps no build is
refused without --force (exit #REFUSED). Run it with --dry-run first: the plan is printed (and is the
JSON document's `builds`).";

pub const RETAIN_EXAMPLES: &str = "  stacktag retain --all --keep 30 --dry-run
  stacktag retain base-notebook --keep 10 --wiki-dir ../docker-stacks.wiki --keep-months 6
  stacktag retain quay.io/jupyter/base-notebook --keep 5 --format json > retain.json";

pub const TAGS: &str = "\
List the tags of an image in the registry, one per line: the tag, its digest, the platforms of an
index (stacktag's names: x86_64, aarch64), and the build (commit) it belongs to when stacktag made
it: a tag belongs to the build whose commit tag (1ffe43816ba9, x86_64-1ffe43816ba9) has the same
digest. Moving tags are all but commit, date (YYYY-MM-DD) and referrers (sha256-{hex}) tags.
Several images, or --all, are listed one after another, each under its name.

The tags file of one image (upstream's write_tags_file) is written by `stacktag tags-file`.";

pub const TAGS_EXAMPLES: &str = "  stacktag tags quay.io/jupyter/base-notebook
  stacktag tags base-notebook --build 1ffe43816ba9
  stacktag tags base-notebook --format json | jq -r '.tags[] | select(.kind == \"moving\") | .tag'";

#[cfg(test)]
mod code_tests {
    use super::*;

    #[test]
    fn codes_in_prose_come_from_the_table() {
        assert_eq!(
            codes("refused (exit #DIRTY), else #REGISTRY_AUTH"),
            "refused (exit 15), else 12"
        );
        // No code typed by hand in the help texts.
        let typed = regex::Regex::new(r"(?i)\bexit (codes: )?[0-9]").unwrap();
        for (file, text) in [
            ("help.rs", include_str!("help.rs")),
            ("archive.rs", include_str!("archive.rs")),
            ("diff.rs", include_str!("diff.rs")),
        ] {
            let prose = text.split("#[cfg(test)]").next().unwrap();
            for (n, line) in prose.lines().enumerate() {
                assert!(
                    !typed.is_match(line),
                    "{file}:{}: write the code as #NAME: {line}",
                    n + 1
                );
            }
        }
    }
}

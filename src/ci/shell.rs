//! The shell scripts of the jobs, the same for every engine: each engine
//! says how a job learns whether it publishes, and where stacktag goes.

use super::{variant_flag, Build, Merge, Pipeline};
use crate::formats::tags::Platform;

/// Where the build jobs keep their archives, one folder per build.
pub const ARCHIVES: &str = "build/archives";
/// `STACKTAG_OUT_DIR`: tags/, manifests/, hist_lines/, sbom/, build-logs/.
pub const OUT: &str = "build/stacktag";

/// Downloads the release archive, checks its sha256 and unpacks stacktag
/// into `$bin`; `cargo install` when there is no such archive.
pub fn install(p: &Pipeline, bin: &str) -> String {
    format!(
        r#"target="$(uname -m)-unknown-linux-gnu"
url="${{STACKTAG_RELEASE_URL:-{url}}}"
bin="{bin}" && mkdir -p "$bin"
if curl -fsSL --retry 3 -o "$bin/release.tar.gz" "$url" && sum="$(curl -fsSL --retry 3 "$url.sha256")" &&
  echo "${{sum%% *}}  $bin/release.tar.gz" | sha256sum -c --quiet; then
  tar -xzf "$bin/release.tar.gz" -C "$bin" --strip-components=1 && rm "$bin/release.tar.gz"
else
  echo "no release archive of stacktag {version} at $url (or its checksum differs): cargo install" >&2
  cargo install --locked --quiet --root "$bin/cargo" stacktag --version {version} && mv "$bin/cargo/bin/stacktag" "$bin/"
fi
"$bin/stacktag" --version
"#,
        url = p.release_url(),
        version = p.version,
    )
}

/// Build (reuse, registry pull or build, verify), hook, save.
pub fn build(b: &Build, publish: &str) -> String {
    let v = b.variant_flag();
    let image = &b.image;
    let mut s = String::new();
    if let Some(parent) = &b.parent {
        let dir = parent.trim_start_matches("build-");
        s += &format!(
            "# The parent's image, from its job's archive (unless the daemon has it).\nstacktag load --dir {ARCHIVES}/{dir}\n"
        );
    }
    s += &format!(
        r#"# Reused when its inputs are unchanged, pulled when the registry has them, else built and verified.
# For the job's platform, whatever the runner's daemon would build by itself.
set -- --cache-from-registry --platform linux/{arch}
if {publish}; then set -- "$@" --push-cache; fi
stacktag build "$@" {v}{image}
stacktag hook --sbom {v}{image}
stacktag save --dir {ARCHIVES}/{stem} {v}{image}
"#,
        stem = b.stem(),
        arch = b.platform.docker_arch(),
    );
    s
}

/// The files of a build job other than its archive.
pub fn build_files(b: &Build) -> Vec<String> {
    let stem = b.stem();
    vec![
        format!("{OUT}/tags/{stem}.txt"),
        format!("{OUT}/manifests/{stem}-*.md"),
        format!("{OUT}/hist_lines/{stem}-*.txt"),
        format!("{OUT}/sbom/{stem}-*.json"),
        format!("{OUT}/build-logs/{stem}.log"),
    ]
}

/// Every archive of one platform into the registry, SBOMs attached; no daemon.
pub fn push(p: &Pipeline, platform: Platform) -> String {
    let mut s = String::from("# Straight from the archives into the registry: no Docker daemon.\n");
    for b in p.builds_on(platform) {
        s += &format!(
            "stacktag push --attach-sbom {v}--archive \"$(ls {ARCHIVES}/{stem}/*.tar)\"\n",
            v = b.variant_flag(),
            stem = b.stem()
        );
    }
    s
}

/// The multi-platform tags of one image, each variant; then its digests.
pub fn merge(p: &Pipeline, m: &Merge, sign: bool) -> String {
    let mut s = String::new();
    for v in &m.variants {
        s += &format!(
            "stacktag merge --image {} {}\n",
            m.image,
            variant_flag(v).trim_end()
        );
    }
    let digests = format!("build/digests-{}.json", m.image);
    s += &format!(
        "# Every digest of the build (platform images and merged indexes), for signing.\nstacktag image-ref --all --image {} --metadata-file {digests}\n",
        m.image
    );
    if sign {
        s += &format!(
            r#"printf '%s' "$STACKTAG_REGISTRY_PASSWORD" |
  cosign login {registry} --username "$STACKTAG_REGISTRY_USER" --password-stdin
jq -r '.references[]' {digests} | xargs -n 1 cosign sign --yes
"#,
            registry = p.registry
        );
    }
    s
}

/// Adds the builds' rows to the wiki repository `$repo`, one commit.
pub fn wiki(commit: &str) -> String {
    format!(
        r#"rm -rf build/wiki
git clone --quiet "$repo" build/wiki
stacktag wiki --wiki-dir build/wiki --hist-lines-dir {OUT}/hist_lines --manifests-dir {OUT}/manifests
git -C build/wiki add -A
if git -C build/wiki diff --cached --quiet; then
  echo "the wiki has these builds already"
else
  git -C build/wiki -c user.name=stacktag -c user.email=stacktag@localhost commit --quiet -m "Builds of {commit}"
  git -C build/wiki push --quiet origin HEAD
fi
"#
    )
}

//! `stacktag find`: which builds hold what, from the wiki's catalog.

use clap::Args;

use super::args::Output;
use super::exit::{CATALOG, OK, USAGE};
use super::json::Body;
use super::Ui;
use crate::catalog::{self, Answer, Query, Source};
use crate::error::Error;

pub const LONG_ABOUT: &str = "\
Which builds hold what: every build in the wiki whose packages (apt, pip, conda, R, Julia), tagger
values (python-3.11.6 is `python` 3.11.6) and own fields (image, platform, variant) meet all the
constraints, newest first, each with its pinnable reference (image:tag, or image@sha256:... when
the digest is known), its tags and its page. Constraints read as conda's match specs: `python=3.11`
is 3.11 or 3.11.x, `==` is exact; versions compare by each ecosystem's rules (Debian's for apt,
PEP 440 for pip and conda, semver-like for the rest). The catalog is the one `stacktag wiki` writes:
a wiki checkout (.stacktag/catalog/), a rendered site (catalog/), or a published site's URL.
Its arguments are constraints, not images, so it takes no IMAGE... and no --all: --image is one
more constraint (image=NAME), which every build may meet.";

pub const EXAMPLES: &str = "  stacktag find numpy=1.26 python=3.11 --platform aarch64
  stacktag find 'r>=4.4' --image r-notebook --first     the first build that had it
  stacktag find --package pandas --image scipy-notebook --limit 0
  stacktag find 'conda:numpy>=1.24,<2' --catalog https://example.org/stack-wiki/ --format json";

pub const CODES: &[i32] = &[OK, USAGE, CATALOG];

#[derive(Debug, Args)]
pub struct FindArgs {
    /// Constraints, all of which a build must meet: `numpy` (has it), `python=3.11` (3.11 or
    /// 3.11.x), `python==3.11.2` (exactly), `>=`, `>`, `<=`, `<`, `!=`, several joined by commas
    /// (`numpy>=1.24,<2`), a manager in front (`conda:numpy`, `apt:`, `pip:`, `r:`, `julia:`,
    /// `tag:` for tagger values), `image=`, `platform=`, `variant=`; `numpy 1.26` is `numpy=1.26`
    #[arg(value_name = "CONSTRAINT")]
    pub constraints: Vec<String>,
    /// The catalog: a wiki checkout, a rendered site, its catalog/ folder, or a published site's
    /// URL (http:// or https://)
    #[arg(
        long,
        value_name = "DIR|URL",
        env = "STACKTAG_CATALOG",
        default_value = "build/wiki"
    )]
    pub catalog: String,
    /// Show this package's version in each build (and keep only builds that have it)
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
    /// Only builds of this image
    #[arg(long)]
    pub image: Option<String>,
    /// Only builds of this platform (x86_64 or aarch64; amd64 and arm64 are accepted)
    #[arg(long)]
    pub platform: Option<String>,
    /// Only builds of this variant (default, cuda12, ...)
    #[arg(long)]
    pub variant: Option<String>,
    /// Only the first (oldest) build that matches: since when the stack ships it
    #[arg(long)]
    pub first: bool,
    /// At most N builds, newest first (0: all)
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    #[command(flatten)]
    pub output: Output,
}

pub async fn run(args: FindArgs, ui: &Ui) -> Result<(), Error> {
    let (source, top) = Source::locate(&args.catalog).await?;
    let query = Query {
        words: args.constraints.clone(),
        package: args.package.clone(),
        image: args.image.clone(),
        platform: args.platform.clone(),
        variant: args.variant.clone(),
        first: args.first,
        limit: args.limit,
    };
    let answer = catalog::find(&source, &top, &query).await?;
    ui.out(&text(&answer, args.first));
    ui.result(Body::Find(answer));
    Ok(())
}

/// The answer for people: one block per build, newest first.
pub fn text(a: &Answer, first: bool) -> String {
    let mut out = String::new();
    for f in &a.builds {
        let b = &f.build;
        out += &format!("{}\n", f.reference);
        let matched: Vec<String> = f
            .matched
            .iter()
            .filter(|m| m.manager != catalog::spec::BUILD)
            .map(|m| format!("{} {} ({})", m.name, m.version, m.manager))
            .collect();
        out += &format!(
            "  built {}, {} {}{}{}\n",
            b.timestamp,
            b.platform,
            b.variant,
            if matched.is_empty() { "" } else { "; " },
            matched.join(", ")
        );
        if b.digest.is_some() {
            out += &format!("  tag: {}:{}\n", b.name, b.tag);
        }
        out += &format!("  tags: {}\n", b.tags.join(" "));
        out += &format!("  page: {}\n", f.link);
    }
    let query = a.terms.join(" ");
    out += &match (a.total, first) {
        (0, _) => format!(
            "no build of the {} in {} matches `{query}`{}\n",
            crate::hook::progress::counted(a.searched, "build"),
            a.catalog,
            a.hint
                .as_ref()
                .map(|h| format!(": {h}"))
                .unwrap_or_default()
        ),
        (n, true) => format!(
            "the first of {} matching `{query}` (of {} in {})\n",
            crate::hook::progress::counted(n, "build"),
            a.searched,
            a.catalog
        ),
        (n, false) if n > a.builds.len() => format!(
            "{} match `{query}` (of {} in {}); the newest {} shown (--limit)\n",
            crate::hook::progress::counted(n, "build"),
            a.searched,
            a.catalog,
            a.builds.len()
        ),
        (n, false) => format!(
            "{} match `{query}` (of {} in {})\n",
            crate::hook::progress::counted(n, "build"),
            a.searched,
            a.catalog
        ),
    };
    out
}

impl super::Run for FindArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        run(self, cx.ui).await
    }
}

//! `stacktag prune`: its options and the glue to [`crate::build::prune`].

use clap::Args;

use super::exit::{CONFIG, DOCKER, IO, OK, USAGE};
use super::{out, ImageName, TagsDir};
use crate::build::prune;
use crate::build::run::short_id;
use crate::error::Error;
use crate::hierarchy::Hierarchy;
use crate::hook::session::Session;

pub const LONG_ABOUT: &str = "\
Remove local images of the stack's repositories that nothing needs: not the current `latest` of an
image, not an ancestor of one in use, and holding no tag listed in the current tags files.
Containers are never touched. --dry-run lists what would go; --keep N keeps the N newest builds
of each image.";

pub const EXAMPLES: &str = "  stacktag prune --dry-run
  stacktag prune --keep 2";

pub const CODES: &[i32] = &[OK, USAGE, CONFIG, DOCKER, IO];

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub name: ImageName,
    #[command(flatten)]
    pub tags: TagsDir,
    /// List what would be removed; remove nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Keep the N newest builds of each image besides those in use
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub keep: usize,
}

pub async fn run(hierarchy: Hierarchy, args: PruneArgs) -> Result<(), Error> {
    let (registry, owner) = args.name.registry_owner(&hierarchy);
    let session = Session::connect().await?;
    let plan = prune::plan(
        &session.docker,
        &hierarchy,
        &registry,
        &owner,
        &args.tags.dir(),
        args.keep,
        &prune::Records {
            dir: prune::Records::default_dir(),
        },
    )
    .await?;
    let line = |c: &prune::Candidate| {
        let tags = if c.tags.is_empty() {
            "<no tag>".to_string()
        } else {
            c.tags.join(" ")
        };
        format!("{} {}", short_id(&c.id), tags)
    };
    let mut text = String::new();
    if args.dry_run {
        for c in &plan {
            match c.kept {
                Some(why) => text += &format!("keep    {} ({})\n", line(c), kept(why)),
                None => text += &format!("remove  {}\n", line(c)),
            }
        }
    } else {
        let (removed, warnings) = prune::remove(&session.docker, &plan).await;
        for w in warnings {
            crate::console::warn(format_args!("{w}"));
        }
        for c in removed {
            text += &format!("removed {}\n", line(&c));
        }
    }
    out(&text);
    Ok(())
}

/// Why an image stays, in this command line's words.
fn kept(why: prune::Kept) -> &'static str {
    match why {
        prune::Kept::Latest => "latest",
        prune::Kept::InTagsFile => "in a tags file",
        prune::Kept::Newest => "--keep",
        prune::Kept::Parent => "parent of a current image",
    }
}

impl super::Run for PruneArgs {
    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        run(cx.hierarchy(crate::hierarchy::Names::Any)?, self).await
    }
}

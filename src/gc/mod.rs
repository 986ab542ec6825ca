//! Containers left behind by runs that are no longer alive.
//!
//! A run removes its containers however it ends, unless it cannot: killed
//! with SIGKILL, the machine crashed, or the daemon went away under it.
//! Every container carries its owner's identity ([`owner`]), so the next
//! run that talks to the daemon (and `stacktag gc`) removes the containers
//! whose owner is dead, and leaves those of live runs, of other machines and
//! of older stacktag versions (no owner labels) alone.

pub mod owner;

use std::collections::HashMap;

use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};

pub use owner::{Liveness, Owner};

/// Every container stacktag creates carries this label.
pub const MANAGED_LABEL: &str = "org.stacktag.managed";
/// And this one, with the run's id, so a run can find its own.
pub const RUN_LABEL: &str = "org.stacktag.run";

/// A managed container found on the daemon.
#[derive(Debug, Clone)]
pub struct Left {
    pub name: String,
    /// Its run's id (`org.stacktag.run`).
    pub run: String,
    pub owner: Option<Owner>,
}

impl std::fmt::Display for Left {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (run {}", self.name, self.run)?;
        match &self.owner {
            Some(o) => write!(f, ", pid {} on {})", o.pid, o.host),
            None => write!(f, ", no owner labels)"),
        }
    }
}

/// What [`collect`] found and did.
#[derive(Debug, Default)]
pub struct Collected {
    /// Of dead runs: removed (or, for a dry run, to remove).
    pub removed: Vec<Left>,
    /// Of runs alive now: kept.
    pub alive: Vec<Left>,
    /// Of owners that cannot be checked from here: kept.
    pub unknown: Vec<Left>,
}

/// Finds every managed container and removes those of dead runs (unless
/// `dry_run`), as seen from `me`.
pub async fn collect(
    docker: &bollard::Docker,
    me: &Owner,
    dry_run: bool,
) -> Result<Collected, bollard::errors::Error> {
    let filters = HashMap::from([("label", vec![MANAGED_LABEL.to_string()])]);
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let mut found = Collected::default();
    for c in docker.list_containers(Some(opts)).await? {
        let labels = c.labels.unwrap_or_default();
        let name = c
            .names
            .and_then(|n| n.into_iter().next())
            .map(|n| n.trim_start_matches('/').to_string())
            .or(c.id)
            .unwrap_or_default();
        let owner = Owner::from_labels(&labels);
        let left = Left {
            name,
            run: labels.get(RUN_LABEL).cloned().unwrap_or_default(),
            owner: owner.clone(),
        };
        match owner.map_or(Liveness::Unknown, |o| o.liveness(me)) {
            Liveness::Dead => found.removed.push(left),
            Liveness::Alive => found.alive.push(left),
            Liveness::Unknown => found.unknown.push(left),
        }
    }
    if !dry_run {
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        for left in &found.removed {
            match docker
                .remove_container(&left.name, Some(opts.clone()))
                .await
            {
                // Gone already: another run's collection got there first.
                Ok(())
                | Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(found)
}

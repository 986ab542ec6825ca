//! An image's inputs digest: sha256 over everything that goes into its
//! build (Dockerfile, context files, hashed build args, platform, the
//! parent's image ID as built in this run, the refresh period). Each input is
//! kept as a named part, so a plan can say which one changed. The digest
//! names the image through its `inputs-{16 hex}` tag and is never put in the
//! image (see [`super::record`]).

use std::collections::BTreeMap;

use super::context::{hash, Context, Kind};

/// Bump when what is hashed changes, so old images are not reused.
const VERSION: &str = "stacktag-inputs-v1";
const SHORT: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// Part name (`Dockerfile`, `context file start.sh`, `build arg X`,
    /// `platform`, `parent base-notebook`, `refresh period`) to its sha256.
    pub parts: BTreeMap<String, String>,
    /// `sha256:<hex>` over every part.
    pub digest: String,
}

/// What an image's digest is made of, besides its context.
pub struct Extra<'a> {
    /// The build args that count: passed and declared by the Dockerfile.
    pub args: &'a [(String, String)],
    /// `linux/amd64`.
    pub platform: &'a str,
    /// Parent's name and image ID.
    pub parent: Option<(&'a str, &'a str)>,
    /// Start of the current refresh period (Unix seconds).
    pub refresh: Option<u64>,
    /// `buildkit` or `classic`: the two make different images of the same inputs.
    pub builder: &'a str,
    /// The ids of the secrets the build reads (their values never count).
    pub secrets: &'a [String],
}

impl Inputs {
    pub fn compute(ctx: &Context, extra: &Extra) -> Inputs {
        let mut parts = BTreeMap::new();
        parts.insert(
            "Dockerfile".to_string(),
            hash(&[
                ctx.dockerfile.as_bytes(),
                b"\0",
                ctx.dockerfile_text.as_bytes(),
            ]),
        );
        for e in &ctx.entries {
            if e.path == ctx.dockerfile {
                continue;
            }
            let name = match e.kind {
                Kind::Dir => format!("context dir {}", e.path),
                _ => format!("context file {}", e.path),
            };
            parts.insert(name, e.hash.clone());
        }
        for (k, v) in extra.args {
            parts.insert(format!("build arg {k}"), hash(&[v.as_bytes()]));
        }
        parts.insert("platform".into(), hash(&[extra.platform.as_bytes()]));
        parts.insert("builder".into(), hash(&[extra.builder.as_bytes()]));
        for id in extra.secrets {
            parts.insert(format!("secret {id}"), hash(&[id.as_bytes()]));
        }
        if let Some((name, id)) = extra.parent {
            parts.insert(format!("parent {name}"), hash(&[id.as_bytes()]));
        }
        if let Some(start) = extra.refresh {
            parts.insert(
                "refresh period".into(),
                hash(&[start.to_string().as_bytes()]),
            );
        }
        let mut all = Vec::new();
        all.extend_from_slice(VERSION.as_bytes());
        all.push(b'\n');
        for (k, v) in &parts {
            all.extend_from_slice(k.as_bytes());
            all.push(0);
            all.extend_from_slice(v.as_bytes());
            all.push(b'\n');
        }
        Inputs {
            digest: format!("sha256:{}", hash(&[&all])),
            parts,
        }
    }

    /// The first 16 hex of the digest: the `inputs-…` tag.
    pub fn short(&self) -> &str {
        &self.digest["sha256:".len().."sha256:".len() + SHORT]
    }

    /// The tag an image of these inputs carries: `inputs-{first 16 hex}`.
    pub fn tag(&self) -> String {
        format!("inputs-{}", self.short())
    }

    /// Each part's name to the first 16 hex of its hash, as a record keeps them.
    pub fn short_parts(&self) -> BTreeMap<String, String> {
        self.parts
            .iter()
            .map(|(k, v)| (k.clone(), v[..SHORT].to_string()))
            .collect()
    }

    /// Which inputs differ from `old` (a record's parts), in words:
    /// `Dockerfile changed`, `context file start.sh added`, ...
    pub fn changes(&self, old: &BTreeMap<String, String>) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in &self.parts {
            match old.get(k) {
                None => out.push(format!("{k} added")),
                Some(o) if o != &v[..SHORT] => out.push(if k == "refresh period" {
                    "a new refresh period started".to_string()
                } else {
                    format!("{k} changed")
                }),
                Some(_) => {}
            }
        }
        for k in old.keys() {
            if !self.parts.contains_key(k) {
                out.push(format!("{k} removed"));
            }
        }
        out
    }
}

/// Start (Unix seconds) of the period of `period_secs` that `now` is in.
pub fn period_start(now: u64, period_secs: u64) -> u64 {
    now - now % period_secs
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn ctx(files: &[(&str, &str)]) -> (tempfile::TempDir, Context) {
        let d = tempfile::tempdir().unwrap();
        for (p, text) in files {
            let path = d.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let c = Context::scan("x", d.path(), Path::new("Dockerfile")).unwrap();
        (d, c)
    }

    fn extra<'a>(args: &'a [(String, String)], parent: Option<(&'a str, &'a str)>) -> Extra<'a> {
        Extra {
            args,
            platform: "linux/amd64",
            parent,
            refresh: None,
            builder: "buildkit",
            secrets: &[],
        }
    }

    #[test]
    fn each_input_changes_the_digest_and_is_named() {
        let (_d, base) = ctx(&[("Dockerfile", "FROM scratch\n"), ("start.sh", "a")]);
        let a = Inputs::compute(&base, &extra(&[], Some(("p", "sha256:1"))));
        assert_eq!(
            a,
            Inputs::compute(&base, &extra(&[], Some(("p", "sha256:1"))))
        );
        assert!(a.digest.starts_with("sha256:") && a.digest.len() == 71);
        assert_eq!(a.tag().len(), "inputs-".len() + 16);

        let (_d2, changed) = ctx(&[("Dockerfile", "FROM scratch\n"), ("start.sh", "b")]);
        let b = Inputs::compute(&changed, &extra(&[], Some(("p", "sha256:1"))));
        assert_ne!(a.digest, b.digest);
        assert_eq!(
            b.changes(&a.short_parts()),
            ["context file start.sh changed"]
        );

        let c = Inputs::compute(&base, &extra(&[], Some(("p", "sha256:2"))));
        assert_eq!(c.changes(&a.short_parts()), ["parent p changed"]);

        let args = [("PY".to_string(), "3.12".to_string())];
        let d = Inputs::compute(&base, &extra(&args, Some(("p", "sha256:1"))));
        assert_eq!(d.changes(&a.short_parts()), ["build arg PY added"]);

        let mut e = extra(&[], Some(("p", "sha256:1")));
        e.platform = "linux/arm64";
        let e = Inputs::compute(&base, &e);
        assert_eq!(e.changes(&a.short_parts()), ["platform changed"]);

        let mut g = extra(&[], Some(("p", "sha256:1")));
        g.builder = "classic";
        let g = Inputs::compute(&base, &g);
        assert_eq!(g.changes(&a.short_parts()), ["builder changed"]);

        let ids = ["token".to_string()];
        let mut h = extra(&[], Some(("p", "sha256:1")));
        h.secrets = &ids;
        let h = Inputs::compute(&base, &h);
        assert_eq!(h.changes(&a.short_parts()), ["secret token added"]);

        let (_d3, fewer) = ctx(&[("Dockerfile", "FROM scratch\n")]);
        let f = Inputs::compute(&fewer, &extra(&[], Some(("p", "sha256:1"))));
        assert_eq!(
            f.changes(&a.short_parts()),
            ["context file start.sh removed"]
        );
    }

    #[test]
    fn refresh_period() {
        assert_eq!(period_start(7 * 86_400 + 5, 7 * 86_400), 7 * 86_400);
        let (_d, base) = ctx(&[("Dockerfile", "FROM scratch\n")]);
        let mut x = extra(&[], None);
        x.refresh = Some(0);
        let a = Inputs::compute(&base, &x);
        x.refresh = Some(604_800);
        let b = Inputs::compute(&base, &x);
        assert_eq!(
            b.changes(&a.short_parts()),
            ["a new refresh period started"]
        );
    }
}

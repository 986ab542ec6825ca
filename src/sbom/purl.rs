//! Package URLs (`pkg:type/namespace/name@version?qualifiers`), in the
//! canonical form: qualifiers sorted by key, every character outside
//! `A-Za-z0-9.-_~` percent-encoded in the name, version and values.

use std::fmt;

#[derive(Debug, Clone)]
pub struct Purl {
    kind: &'static str,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(&'static str, String)>,
}

impl Purl {
    pub fn new(
        kind: &'static str,
        namespace: Option<&str>,
        name: &str,
        version: Option<&str>,
    ) -> Self {
        Purl {
            kind,
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_string),
            name: name.to_string(),
            version: version.filter(|v| !v.is_empty()).map(str::to_string),
            qualifiers: Vec::new(),
        }
    }

    /// Adds a qualifier; an empty value is left out, as the spec says.
    pub fn qualifier(mut self, key: &'static str, value: &str) -> Self {
        if !value.is_empty() {
            self.qualifiers.push((key, value.to_string()));
        }
        self
    }

    /// `pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12`
    pub fn deb(namespace: &str, name: &str, version: &str, arch: &str, distro: &str) -> String {
        Purl::new("deb", Some(namespace), name, Some(version))
            .qualifier("arch", arch)
            .qualifier("distro", distro)
            .to_string()
    }

    /// pypi names are lowercased with `_` as `-` (the purl spec's rule).
    pub fn pypi(name: &str, version: &str) -> String {
        let name = name.to_lowercase().replace('_', "-");
        Purl::new("pypi", None, &name, Some(version)).to_string()
    }

    pub fn conda(name: &str, version: &str, build: &str, channel: &str, subdir: &str) -> String {
        Purl::new("conda", None, name, Some(version))
            .qualifier("build", build)
            .qualifier("channel", channel)
            .qualifier("subdir", subdir)
            .to_string()
    }

    pub fn cran(name: &str, version: &str) -> String {
        Purl::new("cran", None, name, Some(version)).to_string()
    }

    pub fn julia(name: &str, version: &str, uuid: &str) -> String {
        Purl::new("julia", None, name, Some(version))
            .qualifier("uuid", uuid)
            .to_string()
    }
}

fn encode(text: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b".-_~".contains(&b) {
            write!(f, "{}", b as char)?;
        } else {
            write!(f, "%{b:02X}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.kind)?;
        if let Some(ns) = &self.namespace {
            for seg in ns.split('/') {
                encode(seg, f)?;
                f.write_str("/")?;
            }
        }
        encode(&self.name, f)?;
        if let Some(v) = &self.version {
            f.write_str("@")?;
            encode(v, f)?;
        }
        let mut q = self.qualifiers.clone();
        q.sort();
        for (i, (k, v)) in q.iter().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            write!(f, "{k}=")?;
            encode(v, f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(
            Purl::deb("debian", "libc6", "2.36-9+deb12u4", "amd64", "debian-12"),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            Purl::deb("debian", "tzdata", "1:2024a-0", "all", ""),
            "pkg:deb/debian/tzdata@1%3A2024a-0?arch=all"
        );
        assert_eq!(
            Purl::pypi("Typing_Extensions", "4.12.2"),
            "pkg:pypi/typing-extensions@4.12.2"
        );
        assert_eq!(
            Purl::conda(
                "python",
                "3.13.5",
                "h2b1_100_cp313",
                "conda-forge",
                "linux-64"
            ),
            "pkg:conda/python@3.13.5?build=h2b1_100_cp313&channel=conda-forge&subdir=linux-64"
        );
        assert_eq!(
            Purl::julia("IJulia", "1.29.0", "7073ff75-c697-5162-941a-fcdaad2a7d2a"),
            "pkg:julia/IJulia@1.29.0?uuid=7073ff75-c697-5162-941a-fcdaad2a7d2a"
        );
        assert_eq!(Purl::cran("R6", "2.5.1"), "pkg:cran/R6@2.5.1");
    }
}

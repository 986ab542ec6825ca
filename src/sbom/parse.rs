//! Readers of the package tools' structured output. Each returns the
//! packages of its section, or where the output stopped making sense.

use serde::Deserialize;

use super::purl::Purl;
use super::{Package, Section};

/// Where and why an output does not parse (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Failure {
    /// The same failure in a text that starts `lines` lines earlier.
    pub fn shifted(mut self, lines: usize) -> Self {
        self.line += lines;
        self
    }

    pub(crate) fn at_line(line: usize, message: String) -> Self {
        Failure {
            line,
            column: 1,
            message,
        }
    }

    fn json(e: &serde_json::Error) -> Self {
        Failure {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }
    }
}

/// `ID` and `VERSION_ID` of `/etc/os-release`, for deb purls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    pub id: String,
    pub version_id: String,
}

impl OsRelease {
    pub fn parse(text: &str) -> OsRelease {
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').trim_matches('\'').to_string())
                .unwrap_or_default()
        };
        OsRelease {
            id: field("ID"),
            version_id: field("VERSION_ID"),
        }
    }

    /// The purl namespace: the distribution's `ID` (`debian` when unknown).
    pub fn namespace(&self) -> &str {
        if self.id.is_empty() {
            "debian"
        } else {
            &self.id
        }
    }

    /// `debian-12`; empty when os-release has no version (testing, sid).
    pub fn distro(&self) -> String {
        if self.id.is_empty() || self.version_id.is_empty() {
            String::new()
        } else {
            format!("{}-{}", self.id, self.version_id)
        }
    }
}

/// The format string of [`super::collect::DPKG`]: one line per package.
pub const DPKG_FORMAT: &str =
    "${db:Status-Status}\\t${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\n";

/// `dpkg-query -W -f=DPKG_FORMAT`: the installed packages (a package
/// removed with its config files kept is not installed).
pub fn dpkg(text: &str, os: &OsRelease) -> Result<Vec<Package>, Failure> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 6 || f[1].is_empty() {
            return Err(Failure::at_line(
                n + 1,
                format!("expected 6 tab-separated fields (status, package, version, architecture, source, source version), got {line:?}"),
            ));
        }
        if f[0] != "installed" {
            continue;
        }
        let (name, version, arch) = (f[1], f[2], f[3]);
        let mut details = vec![("arch", arch.to_string())];
        let source = match (f[4], f[5]) {
            ("", _) => String::new(),
            (s, v) if s == name && v == version => String::new(),
            (s, v) if v == version || v.is_empty() => s.to_string(),
            (s, v) => format!("{s} {v}"),
        };
        if !source.is_empty() {
            details.push(("source", source));
        }
        out.push(Package {
            section: Section::Apt,
            name: name.to_string(),
            version: version.to_string(),
            purl: Purl::deb(os.namespace(), name, version, arch, &os.distro()),
            details,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
struct PipEntry {
    name: String,
    version: String,
}

/// The Python program of [`super::collect::PIP`].
pub const PIP_SCRIPT: &str = r#"import importlib.metadata as m, json, re; seen = set(); ds = [d for d in m.distributions() if d.metadata["Name"] and (k := re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower()) not in seen and k not in ("python", "wsgiref", "argparse") and not seen.add(k)]; print(json.dumps([{"name": d.metadata["Name"], "version": d.version} for d in ds]))"#;

/// `pip list --format json` (and [`PIP_SCRIPT`]): `[{"name": "pip", "version": "23.0.1"}, ...]`.
pub fn pip_json(text: &str) -> Result<Vec<Package>, Failure> {
    let entries: Vec<PipEntry> = serde_json::from_str(text).map_err(|e| Failure::json(&e))?;
    Ok(entries
        .into_iter()
        .map(|e| Package {
            section: Section::Pip,
            purl: Purl::pypi(&e.name, &e.version),
            name: e.name,
            version: e.version,
            details: Vec::new(),
        })
        .collect())
}

#[derive(Deserialize)]
struct CondaEntry {
    name: String,
    version: String,
    #[serde(default)]
    build_string: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    platform: String,
}

/// `conda list --json`. Records that pip installed (channel `pypi`) are
/// left to the pip section, which lists them too.
pub fn conda_json(text: &str) -> Result<Vec<Package>, Failure> {
    let entries: Vec<CondaEntry> = serde_json::from_str(text).map_err(|e| Failure::json(&e))?;
    Ok(entries
        .into_iter()
        .filter(|e| e.channel != "pypi")
        .map(|e| {
            // `pkgs/main` is a channel name as conda prints it; the purl wants its last part too.
            let mut details = vec![("build", e.build_string.clone())];
            details.push(("channel", e.channel.clone()));
            details.retain(|(_, v)| !v.is_empty());
            Package {
                section: Section::Conda,
                purl: Purl::conda(
                    &e.name,
                    &e.version,
                    &e.build_string,
                    &e.channel,
                    &e.platform,
                ),
                name: e.name,
                version: e.version,
                details,
            }
        })
        .collect())
}

/// The R expression of [`super::collect::R`]: name, version and license of
/// every installed package, tab-separated, one per line.
pub const R_SCRIPT: &str = r#"ip <- installed.packages(); cat(sprintf("%s\t%s\t%s\n", ip[, "Package"], ip[, "Version"], gsub("[[:space:]]+", " ", ip[, "License"])), sep = "")"#;

/// Output of [`R_SCRIPT`]. A package installed in two libraries is listed once
/// per version.
pub fn r_tsv(text: &str) -> Result<Vec<Package>, Failure> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 3 || f[0].is_empty() {
            return Err(Failure::at_line(
                n + 1,
                format!(
                    "expected 3 tab-separated fields (package, version, license), got {line:?}"
                ),
            ));
        }
        let mut details = Vec::new();
        if f[2] != "NA" && !f[2].is_empty() {
            details.push(("license", f[2].to_string()));
        }
        out.push(Package {
            section: Section::R,
            name: f[0].to_string(),
            version: f[1].to_string(),
            purl: Purl::cran(f[0], f[1]),
            details,
        });
    }
    Ok(out)
}

/// The Julia program of [`super::collect::JULIA`]: every package of the
/// active environment (`Pkg.dependencies()`), `uuid name version direct`.
pub const JULIA_SCRIPT: &str = r#"import Pkg; for (u, p) in Pkg.dependencies(); println(u, "\t", p.name, "\t", something(p.version, ""), "\t", p.is_direct_dep); end"#;

/// Output of [`JULIA_SCRIPT`]. Standard libraries without a version of
/// their own have an empty version.
pub fn julia_tsv(text: &str) -> Result<Vec<Package>, Failure> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let uuid_ok =
            |u: &str| u.len() == 36 && u.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if f.len() != 4 || !uuid_ok(f[0]) || f[1].is_empty() || !matches!(f[3], "true" | "false") {
            return Err(Failure::at_line(
                n + 1,
                format!("expected `uuid<TAB>name<TAB>version<TAB>true|false`, got {line:?}"),
            ));
        }
        let mut details = vec![("uuid", f[0].to_string())];
        if f[3] == "true" {
            details.insert(0, ("direct", "true".to_string()));
        }
        out.push(Package {
            section: Section::Julia,
            name: f[1].to_string(),
            version: f[2].to_string(),
            purl: Purl::julia(f[1], f[2], f[0]),
            details,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(f: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/data/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn os_release_of_debian() {
        let os = OsRelease::parse(&data("debian-os-release.txt"));
        assert_eq!(
            (os.namespace(), os.distro().as_str()),
            ("debian", "debian-12")
        );
    }

    #[test]
    fn dpkg_keeps_installed_packages_and_their_source() {
        let os = OsRelease::parse(&data("debian-os-release.txt"));
        let pkgs = dpkg(&data("debian-dpkg-query.tsv"), &os).unwrap();
        let libc = pkgs.iter().find(|p| p.name == "libc6").unwrap();
        assert_eq!(libc.detail("source"), Some("glibc"));
        assert!(
            libc.purl
                .starts_with("pkg:deb/debian/libc6@2.36-9%2Bdeb12u"),
            "{}",
            libc.purl
        );
        assert!(
            libc.purl.ends_with("?arch=amd64&distro=debian-12"),
            "{}",
            libc.purl
        );
        let total = data("debian-dpkg-query.tsv").lines().count();
        let installed = data("debian-dpkg-query.tsv")
            .lines()
            .filter(|l| l.starts_with("installed\t"))
            .count();
        assert_eq!(pkgs.len(), installed);
        assert!(installed < total, "the capture has a config-files package");
        let e = dpkg("installed\tx\n", &os).unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
    }

    #[test]
    fn pip_json_of_debian() {
        let pkgs = pip_json(&data("debian-pip-list.json")).unwrap();
        let names: Vec<_> = pkgs.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            names,
            [
                "pkg:pypi/pip@23.0.1",
                "pkg:pypi/setuptools@66.1.1",
                "pkg:pypi/wheel@0.38.4"
            ]
        );
        let e = pip_json("[{\"name\": \"pip\", \"version\": \"23\"},\n {\"name\": }]").unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
        assert!(e.column > 1, "{e:?}");
    }

    #[test]
    fn conda_json_leaves_pypi_records_to_pip() {
        let pkgs = conda_json(&data("conda-list.json")).unwrap();
        assert!(pkgs.iter().all(|p| p.detail("channel") != Some("pypi")));
        let mutex = pkgs.iter().find(|p| p.name == "_libgcc_mutex").unwrap();
        assert_eq!(
            mutex.purl,
            "pkg:conda/_libgcc_mutex@0.1?build=conda_forge&channel=conda-forge&subdir=linux-64"
        );
        let python = pkgs.iter().find(|p| p.name == "python").unwrap();
        assert_eq!(python.detail("channel"), Some("pkgs/main"));
        assert!(
            python.purl.contains("channel=pkgs%2Fmain"),
            "{}",
            python.purl
        );
        assert!(!pkgs.iter().any(|p| p.name == "itsdangerous"));
        let e = conda_json("[\n  {\n    \"name\": 3\n  }\n]").unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
    }

    #[test]
    fn r_packages_with_licenses() {
        let pkgs = r_tsv(&data("r-installed-packages.tsv")).unwrap();
        let base = pkgs.iter().find(|p| p.name == "base").unwrap();
        assert_eq!(base.detail("license"), Some("Part of R 4.2.2"));
        assert!(pkgs.iter().any(|p| p.purl == "pkg:cran/R6@2.5.1"));
        assert!(r_tsv("a\tb\n").is_err());
    }

    #[test]
    fn julia_dependencies() {
        let pkgs = julia_tsv(&data("julia-pkg-dependencies.tsv")).unwrap();
        let ijulia = pkgs.iter().find(|p| p.name == "IJulia").unwrap();
        assert_eq!(
            ijulia.purl,
            "pkg:julia/IJulia@1.29.0?uuid=7073ff75-c697-5162-941a-fcdaad2a7d2a"
        );
        assert_eq!(ijulia.detail("direct"), Some("true"));
        let std = pkgs.iter().find(|p| p.name == "Base64").unwrap();
        assert_eq!(std.version, "");
        let e = julia_tsv("ok\n").unwrap_err();
        assert_eq!(e.line, 1);
    }
}

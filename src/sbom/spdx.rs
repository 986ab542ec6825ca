//! SPDX 2.3 JSON: the image is the described package, and CONTAINS every
//! package found in it.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::{image_purl, image_ref, stable_uuid, Inventory, Package, Section};
use crate::plugin::run::{BuildInfo, ImageInfo};

const IMAGE_ID: &str = "SPDXRef-Image";

pub fn document(inv: &Inventory, image: &ImageInfo, build: &BuildInfo) -> String {
    let reference = image_ref(image, build);
    let uuid = stable_uuid(&format!(
        "spdx {} {} {reference}",
        image.id,
        build.timestamp_str()
    ));
    let mut packages = vec![json!({
        "SPDXID": IMAGE_ID,
        "name": image.full_name(),
        "versionInfo": image.id,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "externalRefs": [purl_ref(&image_purl(image))],
        "comment": format!("Docker image {reference}, image ID {}", image.id),
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": IMAGE_ID,
    })];
    let mut ids = HashSet::new();
    for p in &inv.packages {
        let id = spdx_id(p, &mut ids);
        packages.push(package(p, &id));
        relationships.push(json!({
            "spdxElementId": IMAGE_ID,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": reference,
        "documentNamespace": format!(
            "https://spdx.org/spdxdocs/stacktag/{}-{}-{uuid}",
            image.stem(),
            build.sha12()
        ),
        "creationInfo": {
            "created": build.timestamp_str(),
            "creators": [format!("Tool: stacktag-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    });
    if let Some(c) = sections_comment(inv) {
        doc["comment"] = Value::String(c);
    }
    serde_json::to_string_pretty(&doc).expect("JSON values serialise") + "\n"
}

/// Which package tools were read and which the image does not have.
pub(crate) fn sections_comment(inv: &Inventory) -> Option<String> {
    let names =
        |s: &mut dyn Iterator<Item = Section>| s.map(Section::name).collect::<Vec<_>>().join(", ");
    let found = names(&mut inv.found.iter().copied());
    let skipped = names(&mut inv.skipped.iter().map(|(s, _)| *s));
    (!skipped.is_empty())
        .then(|| format!("Packages of: {found}. Package tools not in the image: {skipped}."))
}

fn purl_ref(purl: &str) -> Value {
    json!({
        "referenceCategory": "PACKAGE-MANAGER",
        "referenceType": "purl",
        "referenceLocator": purl,
    })
}

/// `SPDXRef-{section}-{name}-{version}`, with what SPDX ids may not hold
/// made `-`; a second package with the same id gets `-2`, and so on.
fn spdx_id(p: &Package, used: &mut HashSet<String>) -> String {
    let raw = format!("{}-{}-{}", p.section.name(), p.name, p.version);
    let mut clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if let Some(arch) = p.detail("arch") {
        clean = format!("{clean}-{arch}");
    }
    let base = format!("SPDXRef-{}", clean.trim_end_matches('-'));
    let mut id = base.clone();
    let mut n = 1;
    while !used.insert(id.clone()) {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

fn package(p: &Package, id: &str) -> Value {
    let mut v = json!({
        "SPDXID": id,
        "name": p.name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "externalRefs": [purl_ref(&p.purl)],
    });
    if !p.version.is_empty() {
        v["versionInfo"] = json!(p.version);
    }
    if let Some(source) = p.detail("source") {
        v["sourceInfo"] = json!(format!("built from the source package {source}"));
    }
    if let Some(license) = p.detail("license") {
        // R's License field is free text, not always an SPDX expression.
        v["licenseComments"] = json!(format!("License field of the package: {license}"));
    }
    v
}

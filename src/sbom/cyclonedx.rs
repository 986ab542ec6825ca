//! CycloneDX 1.6 JSON: the image is the BOM's subject (a `container`
//! component) and depends on every package found in it.

use serde_json::{json, Value};

use super::spdx::sections_comment;
use super::{image_purl, image_ref, stable_uuid, Inventory, Package};
use crate::plugin::run::{BuildInfo, ImageInfo};

pub const SCHEMA: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

pub fn document(inv: &Inventory, image: &ImageInfo, build: &BuildInfo) -> String {
    let reference = image_ref(image, build);
    let image_purl = image_purl(image);
    let serial = stable_uuid(&format!(
        "cdx {} {} {reference}",
        image.id,
        build.timestamp_str()
    ));
    let mut metadata = json!({
        "timestamp": build.timestamp_str(),
        "tools": {
            "components": [{
                "type": "application",
                "name": "stacktag",
                "version": env!("CARGO_PKG_VERSION"),
            }],
        },
        "component": {
            "type": "container",
            "bom-ref": image_purl,
            "name": image.full_name(),
            "version": image.id,
            "purl": image_purl,
            "description": format!("Docker image {reference}"),
        },
    });
    if let Some(c) = sections_comment(inv) {
        metadata["properties"] = json!([{ "name": "stacktag:sections", "value": c }]);
    }
    let components: Vec<Value> = inv.packages.iter().map(component).collect();
    let refs: Vec<&str> = inv.packages.iter().map(|p| p.purl.as_str()).collect();
    let doc = json!({
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": [{ "ref": image_purl, "dependsOn": refs }],
    });
    serde_json::to_string_pretty(&doc).expect("JSON values serialise") + "\n"
}

fn component(p: &Package) -> Value {
    let mut v = json!({
        "type": "library",
        "bom-ref": p.purl,
        "name": p.name,
        "purl": p.purl,
    });
    if !p.version.is_empty() {
        v["version"] = json!(p.version);
    }
    if let Some(license) = p.detail("license") {
        v["licenses"] = json!([{ "license": { "name": license } }]);
    }
    let props: Vec<Value> = p
        .details
        .iter()
        .filter(|(k, _)| *k != "license")
        .map(|(k, val)| json!({ "name": format!("stacktag:{}:{k}", p.section.name()), "value": val }))
        .collect();
    if !props.is_empty() {
        v["properties"] = Value::Array(props);
    }
    v
}

//! hierarchy.yaml: any text is a hierarchy or a ConfigError, never a panic;
//! an accepted one resolves every image.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stacktag::hierarchy::Hierarchy;

fuzz_target!(|text: &str| {
    if let Ok(h) = Hierarchy::parse(text, std::path::Path::new("fuzz.yaml")) {
        for image in &h.images {
            h.resolve(&image.name).expect("a validated image resolves");
        }
        let _ = h.topological();
    }
});

//! A tags file as `apply`, `push` and `merge` read it back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stacktag::formats::tags;

fuzz_target!(|text: &str| {
    for (name, tag) in tags::parse_tags_file(text) {
        if tags::is_valid_tag(&tag) {
            let _ = tags::merged_tag(&tag);
        }
        let _ = name;
    }
});

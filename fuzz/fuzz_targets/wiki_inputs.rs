//! What `stacktag wiki` reads from the hook's files: a manifest, a history
//! line, and their parts. Checked or refused, never a panic.
#![no_main]
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use stacktag::wiki::{input, month, row};

fuzz_target!(|input: (&str, &str)| {
    let (text, stem) = input;
    let _ = input::check_manifest(
        Path::new("x86_64-default-base-notebook-1ffe43816ba9.md"),
        text.to_string(),
    );
    let _ = input::check_line(
        Path::new("x86_64-default-base-notebook-1ffe43816ba9.txt"),
        text.to_string(),
    );
    let _ = row::parse_new(text, stem);
    if let Ok(r) = row::parse_new(text, "x86_64-default-base-notebook-1ffe43816ba9") {
        let _ = r.month();
    }
    let r = row::parse_existing(text);
    let _ = r.month();
    let _ = row::split_page(text, stem);
    let _ = input::manifest_timestamp(text);
    let _ = month::Month::of_timestamp(text);
});

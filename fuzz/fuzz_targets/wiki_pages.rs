//! What `stacktag wiki` reads from the wiki itself: a monthly page (with a
//! new row inserted), the Home template, the `.stacktag/` index files.
#![no_main]
use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use stacktag::wiki::month::Month;
use stacktag::wiki::{home, index, monthly, row};

const LINE: &str = "| `2026-11-22T23:48:58Z` | `x86_64` | `base-notebook` | [Build manifest](./x86_64-default-base-notebook-1ffe43816ba9) |";

fuzz_target!(|text: &str| {
    let _ = monthly::table_rows(text);
    let month = Month::new(2026, 11).unwrap();
    if let Ok(r) = row::parse_new(LINE, "x86_64-default-base-notebook-1ffe43816ba9") {
        let rows: Vec<row::Row> = monthly::table_rows(text)
            .map(|(_, rows)| rows.iter().map(|l| row::parse_existing(l)).collect())
            .unwrap_or_default();
        let new = [monthly::NewRow { line: LINE, row: &r }];
        let _ = monthly::insert(month, Some(text), &rows, &new);
    }
    let _ = home::render(text, "jupyter/docker-stacks", &BTreeMap::new());
    let _ = index::parse_builds(text);
    let _ = index::parse_manifests(text);
});

//! A monthly page: the header of formats.md, then one table row per build,
//! newest first. New rows are inserted where their timestamp puts them;
//! the rows already there are never moved or rewritten.

use super::layout::monthly_header;
use super::month::Month;
use super::row::Row;

/// The table rows of a page: the byte offset right after the header, and
/// the row lines that follow it. `None` when the page has no table header.
pub fn table_rows(text: &str) -> Option<(usize, Vec<&str>)> {
    const SEPARATOR: &str = "| Date | Image | Links |\n| - | - | - |\n";
    let start = text.find(SEPARATOR)? + SEPARATOR.len();
    let rows = text[start..]
        .split_inclusive('\n')
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_end_matches('\n'))
        .collect();
    Some((start, rows))
}

/// A line to add to a page, with its row for the index.
pub struct NewRow<'a> {
    pub line: &'a str,
    pub row: &'a Row,
}

/// The page with `new` inserted, and its rows; `None` when every line is
/// already there. `text` is `None` for a page that does not exist yet;
/// `rows` are the index's rows of the page, one per table row.
pub fn insert(
    month: Month,
    text: Option<&str>,
    rows: &[Row],
    new: &[NewRow<'_>],
) -> Result<Option<(String, Vec<Row>)>, String> {
    let header = monthly_header(month);
    let text = text.unwrap_or(&header);
    if !text.starts_with(&format!("# Images built during {month}\n")) || !text.contains(&header) {
        return Err(format!(
            "not a monthly page: it does not start with the header\n{}",
            header.trim_end()
        ));
    }
    let (start, lines) = table_rows(text).expect("header checked");
    if lines.len() != rows.len() {
        return Err(format!(
            "the index has {} rows for this page, the page {}",
            rows.len(),
            lines.len()
        ));
    }
    let mut lines: Vec<String> = lines.into_iter().map(String::from).collect();
    let end = start + lines.iter().map(|l| l.len() + 1).sum::<usize>();
    let mut rows = rows.to_vec();

    // Oldest first, each above the rows as new or newer than itself: a run's
    // rows (one timestamp) end up in reverse file order, as upstream's do.
    let mut todo: Vec<&NewRow> = new.iter().collect();
    todo.sort_by(|a, b| (&a.row.timestamp, a.line).cmp(&(&b.row.timestamp, b.line)));
    let mut added = false;
    for n in todo {
        if lines.iter().any(|l| l == n.line) {
            continue;
        }
        let at = rows
            .iter()
            .position(|r| r.timestamp <= n.row.timestamp)
            .unwrap_or(rows.len());
        lines.insert(at, n.line.to_string());
        rows.insert(at, n.row.clone());
        added = true;
    }
    if !added {
        return Ok(None);
    }
    let mut page = String::with_capacity(text.len() + new.len() * 600);
    page.push_str(&text[..start]);
    for l in &lines {
        page.push_str(l);
        page.push('\n');
    }
    // A page whose last row had no newline: keep what followed as it was.
    page.push_str(text.get(end..).unwrap_or(""));
    Ok(Some((page, rows)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wiki::row::parse_existing;

    fn line(ts: &str, page: &str) -> String {
        format!("| `{ts}` | `r/o/base-notebook:x86_64-x` | [Build manifest](./{page}) |")
    }

    #[test]
    fn rows_go_newest_first_and_only_once() {
        let m: Month = "2026-11".parse().unwrap();
        let a = line("2026-11-02T00:00:00Z", "x86_64-default-a-000000000001");
        let b = line("2026-11-05T00:00:00Z", "x86_64-default-b-000000000002");
        let c = line("2026-11-05T00:00:00Z", "x86_64-default-c-000000000003");
        let ra = parse_existing(&a);
        let rb = parse_existing(&b);
        let rc = parse_existing(&c);
        let (page, rows) = insert(
            m,
            None,
            &[],
            &[NewRow { line: &b, row: &rb }, NewRow { line: &a, row: &ra }],
        )
        .unwrap()
        .unwrap();
        assert_eq!(page, format!("{}{b}\n{a}\n", monthly_header(m)));
        let (page2, rows2) = insert(m, Some(&page), &rows, &[NewRow { line: &c, row: &rc }])
            .unwrap()
            .unwrap();
        assert_eq!(page2, format!("{}{c}\n{b}\n{a}\n", monthly_header(m)));
        assert_eq!(rows2.len(), 3);
        assert!(
            insert(m, Some(&page2), &rows2, &[NewRow { line: &a, row: &ra }])
                .unwrap()
                .is_none()
        );
        // An older build goes under the newer rows, not on top.
        let old = line("2026-11-01T00:00:00Z", "x86_64-default-d-000000000004");
        let rold = parse_existing(&old);
        let (page3, _) = insert(
            m,
            Some(&page2),
            &rows2,
            &[NewRow {
                line: &old,
                row: &rold,
            }],
        )
        .unwrap()
        .unwrap();
        assert!(page3.ends_with(&format!("{a}\n{old}\n")));
    }

    #[test]
    fn a_page_without_the_header_is_refused() {
        let m: Month = "2026-11".parse().unwrap();
        let r = parse_existing(&line("2026-11-02T00:00:00Z", "p"));
        let l = line("2026-11-02T00:00:00Z", "p");
        let err = insert(
            m,
            Some("# Something else\n"),
            &[],
            &[NewRow { line: &l, row: &r }],
        );
        assert!(err.unwrap_err().contains("not a monthly page"));
    }
}

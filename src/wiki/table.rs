//! A markdown table laid out as upstream's Home page has it (Python
//! `tabulate`, `tablefmt="github"`), so that stacktag's first run on an
//! upstream wiki leaves the tables of past years byte for byte as they were:
//! every column as wide as its widest cell and at least its header plus two,
//! numbers flush right (their header too), text flush left.

pub enum Cell {
    Text(String),
    Number(u64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => n.to_string(),
        }
    }
}

/// The table, lines joined by `\n`, no newline at the end.
pub fn github(headers: &[&str], rows: &[Vec<Cell>]) -> String {
    let columns = headers.len();
    // A column is numeric when every cell of it is a number.
    let numeric: Vec<bool> = (0..columns)
        .map(|c| !rows.is_empty() && rows.iter().all(|r| matches!(r[c], Cell::Number(_))))
        .collect();
    let texts: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(Cell::text).collect())
        .collect();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            texts
                .iter()
                .map(|r| r[c].chars().count())
                .chain([headers[c].chars().count() + 2])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(c, t)| {
                if numeric[c] {
                    format!(" {t:>w$} ", w = widths[c])
                } else {
                    format!(" {t:<w$} ", w = widths[c])
                }
            })
            .collect();
        format!("|{}|", padded.join("|"))
    };
    let mut out = vec![line(headers.iter().map(|h| h.to_string()).collect())];
    out.push(format!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    ));
    out.extend(texts.into_iter().map(line));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laid_out_like_tabulate_github() {
        // From tabulate's own documentation of the format.
        let rows = vec![
            vec![Cell::Text("spam".into()), Cell::Number(42)],
            vec![Cell::Text("eggs".into()), Cell::Number(451)],
            vec![Cell::Text("bacon".into()), Cell::Number(0)],
        ];
        assert_eq!(
            github(&["item", "qty"], &rows),
            "| item   |   qty |\n|--------|-------|\n| spam   |    42 |\n| eggs   |   451 |\n| bacon  |     0 |"
        );
    }
}

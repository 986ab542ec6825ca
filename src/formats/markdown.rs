//! The pieces manifests are made of (formats.md, "Build manifest").

/// A command's output as the manifest shows it: leading and trailing blank
/// lines removed, trailing whitespace stripped from every line. `None` when
/// nothing is left (an error for the caller: upstream asserts the same).
pub fn clean_output(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let first = lines.iter().position(|l| !l.is_empty())?;
    let last = lines.iter().rposition(|l| !l.is_empty())?;
    Some(lines[first..=last].join("\n"))
}

/// A fence longer than any run of backticks in `body`, so container output
/// can never close the block early.
fn fence_for(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat(longest.max(2) + 1)
}

/// A fenced ```text block.
pub fn text_block(body: &str) -> String {
    let fence = fence_for(body);
    format!("{fence}text\n{body}\n{fence}")
}

/// `` `{command}`: `` followed by its output in a text block.
pub fn quoted(command: &str, cleaned: &str) -> String {
    format!("`{command}`:\n\n{}", text_block(cleaned))
}

/// Docker's image size, as `docker images` prints it (go-units
/// `HumanSizeWithPrecision(size, 3)`): decimal units, 3 significant digits.
pub fn docker_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    format!("{}{}", g3(size), UNITS[unit])
}

/// C's `%.3g` for 0 <= x < 1000, as Go prints it.
fn g3(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let rounded: f64 = format!("{x:.2e}").parse().unwrap_or(x);
    if rounded >= 1000.0 {
        return "1e+03".into();
    }
    let digits_before = (rounded.log10().floor() as i32 + 1).max(1);
    let decimals = (3 - digits_before).max(0) as usize;
    let s = format!("{rounded:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_cleaned_like_upstream() {
        assert_eq!(clean_output("\n\n a  \nb\t\n\n").as_deref(), Some(" a\nb"));
        assert_eq!(clean_output("\n  \n"), None);
        assert_eq!(clean_output(""), None);
    }

    #[test]
    fn fence_outgrows_backticks_in_output() {
        assert_eq!(text_block("x"), "```text\nx\n```");
        let evil = "```\n# injected\n````";
        let block = text_block(evil);
        assert!(block.starts_with("`````text\n"));
        assert!(block.ends_with("\n`````"));
    }

    #[test]
    fn sizes_match_docker_cli() {
        assert_eq!(docker_size(1_050_000_000), "1.05GB");
        assert_eq!(docker_size(253_000_000), "253MB");
        assert_eq!(docker_size(253_499_999), "253MB");
        assert_eq!(docker_size(2_200_000), "2.2MB");
        assert_eq!(docker_size(999), "999B");
        assert_eq!(docker_size(0), "0B");
        assert_eq!(docker_size(1_234_567), "1.23MB");
        assert_eq!(docker_size(10_000_000), "10MB");
        assert_eq!(docker_size(999_999), "1e+03kB");
    }
}

//! The command reference, `docs/cli.md`, against the binary: every subcommand that
//! `mmarray --help` lists has a section there, and every long flag that `mmarray SUB
//! --help` lists appears in that section (or, for the options every subcommand
//! shares, in the "Common options" section).

mod common;

use common::Scratch;

/// The reference, read from the repository.
fn reference() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/cli.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text of the part of `doc` under the heading `heading` (up to the next heading
/// of the same or a higher level).
fn section<'d>(doc: &'d str, heading: &str) -> Option<&'d str> {
    let level = heading.len() - heading.trim_start_matches('#').len();
    let start = doc.find(&format!("\n{heading}\n"))? + 1;
    let body = &doc[start + heading.len()..];
    let end = body
        .match_indices("\n#")
        .find(|(i, _)| {
            let rest = &body[i + 1..];
            let hashes = rest.len() - rest.trim_start_matches('#').len();
            hashes <= level && rest[hashes..].starts_with(' ')
        })
        .map_or(body.len(), |(i, _)| i);
    Some(&body[..end])
}

/// The subcommands `mmarray --help` lists (without `help`).
fn subcommands(s: &Scratch) -> Vec<String> {
    let help = s.run(&["--help"]).ok().to_owned();
    let commands = help
        .split("Commands:\n")
        .nth(1)
        .expect("--help lists the commands");
    commands
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// The long flags `mmarray ARGS --help` lists (`--json`, `--raw`, ...).
fn long_flags(s: &Scratch, args: &[&str]) -> Vec<String> {
    let mut all = args.to_vec();
    all.push("--help");
    let help = s.run(&all).ok().to_owned();
    let mut flags: Vec<String> = help
        .lines()
        .filter_map(|line| {
            let t = line.trim_start();
            let t = t
                .strip_prefix('-')
                .filter(|r| r.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
                .map_or(t, |r| r[1..].trim_start_matches(", "));
            let name = t.strip_prefix("--")?;
            let end = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(name.len());
            Some(format!("--{}", &name[..end]))
        })
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

#[test]
fn every_subcommand_and_flag_is_in_the_reference() {
    let s = Scratch::new();
    let doc = reference();
    let common = section(&doc, "## Common options").expect("a Common options section");
    let subs = subcommands(&s);
    assert!(subs.len() >= 13, "{subs:?}");
    for flag in long_flags(&s, &[]) {
        assert!(
            common.contains(&format!("`{flag}")),
            "{flag} is not in Common options"
        );
    }
    let mut missing = Vec::new();
    let mut checked = 0;
    for sub in &subs {
        let heading = format!("### `mmarray {sub}`");
        let Some(text) = section(&doc, &heading) else {
            missing.push(format!("section {heading:?}"));
            continue;
        };
        for flag in long_flags(&s, &[sub]) {
            checked += 1;
            if !text.contains(&format!("`{flag}")) && !common.contains(&format!("`{flag}")) {
                missing.push(format!("{sub} {flag}"));
            }
        }
    }
    assert!(missing.is_empty(), "missing from docs/cli.md: {missing:?}");
    assert!(
        checked > 60,
        "only {checked} flags found in the --help texts"
    );
}

#[test]
fn the_reference_checker_notices_what_is_missing() {
    let s = Scratch::new();
    let doc = reference();
    // The helpers see the flags and sections they must see, so that the test above
    // cannot pass by finding nothing.
    let export = long_flags(&s, &["export"]);
    for flag in [
        "--slice",
        "--format",
        "--delimiter",
        "--fmt",
        "--force",
        "--raw",
    ] {
        assert!(export.contains(&flag.to_owned()), "{export:?}");
    }
    assert!(subcommands(&s).contains(&"completions".to_owned()));
    let show = section(&doc, "### `mmarray show`").unwrap();
    assert!(show.contains("`--precision"));
    assert!(
        !show.contains("`--fmt"),
        "a section must end at the next heading"
    );
    let without = doc.replace("`--edgeitems", "`--edge");
    let show = section(&without, "### `mmarray show`").unwrap();
    assert!(!show.contains("`--edgeitems"));
}

#[test]
fn the_readme_links_the_reference() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    assert!(
        readme.contains("(docs/cli.md)"),
        "README.md does not link docs/cli.md"
    );
}

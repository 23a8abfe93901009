//! Writes the man page and the shell completions, generated from the clap
//! definition the binary parses with (so every flag, its variable and its
//! default appear exactly as in `--help`):
//!
//! ```sh
//! cargo run --example gen-docs -- DIR
//! ```
//!
//! `cargo run --example gen-docs -- --readme README.md` rewrites the
//! README's flag table from the same definitions instead.
//!
//! DIR/healthprobe.1 (clap_mangen), and DIR/completions/healthprobe.bash,
//! DIR/completions/_healthprobe (zsh), DIR/completions/healthprobe.fish
//! (clap_complete). `scripts/release.sh` runs it into `dist/`; the Debian
//! package installs them. Not part of the binary: a probe never builds them.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap_complete::Shell;

fn main() -> Result<()> {
    if std::env::args().nth(1).as_deref() == Some("--readme") {
        let path = std::env::args_os()
            .nth(2)
            .context("usage: gen-docs --readme README.md")?;
        return readme(&PathBuf::from(path));
    }
    let dir = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .context("usage: gen-docs DIR (where to write healthprobe.1 and completions/)")?,
    );
    let command = healthprobe::cli_definition();
    std::fs::create_dir_all(dir.join("completions"))
        .with_context(|| format!("creating {}", dir.join("completions").display()))?;

    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .context("rendering the man page")?;
    let man = dir.join("healthprobe.1");
    std::fs::write(&man, page).with_context(|| format!("writing {}", man.display()))?;
    println!("{}", man.display());

    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut command = command.clone();
        let path =
            clap_complete::generate_to(shell, &mut command, "healthprobe", dir.join("completions"))
                .with_context(|| format!("writing the {shell} completion"))?;
        println!("{}", path.display());
    }
    Ok(())
}

/// Rewrites the flag table of the README at `path` from the flag
/// definitions (`cli_markdown_table`): the lines from its header row to the
/// last row.
fn readme(path: &std::path::Path) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let header = "| flag | env var | default | meaning |";
    let start = text
        .find(header)
        .with_context(|| format!("{}: no flag table ({header})", path.display()))?;
    let end = text[start..]
        .split_inclusive('\n')
        .take_while(|line| line.starts_with('|'))
        .map(str::len)
        .sum::<usize>()
        + start;
    let table = healthprobe::cli_markdown_table();
    let text = format!("{}{table}{}", &text[..start], &text[end..]);
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    println!("{}: flag table rewritten", path.display());
    Ok(())
}

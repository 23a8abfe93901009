//! `${NAME}` expansion (src/cli/expand.rs) on arbitrary text and
//! variables: never a panic; text without `$` comes back as it is; text
//! with every `$` doubled comes back as the original text (`$$` is a
//! literal `$`); an error is one line.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    text: String,
    vars: Vec<(String, String)>,
}

/// `${NAME}` expansion of `text` with `vars` as the environment.
fn expand(text: &str, vars: &[(String, String)]) -> Result<String, String> {
    healthprobe::internals::expand(text, |name| {
        vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    })
    .map_err(|e| format!("{e:#}"))
}

fuzz_target!(|input: Input| {
    let got = expand(&input.text, &input.vars);
    if !input.text.contains('$') {
        assert_eq!(got.as_deref(), Ok(input.text.as_str()));
    }
    if let Err(line) = &got {
        assert!(!line.is_empty() && !line.contains('\n'), "{line:?}");
    }
    let escaped = input.text.replace('$', "$$");
    assert_eq!(
        expand(&escaped, &input.vars).as_deref(),
        Ok(input.text.as_str())
    );
});
